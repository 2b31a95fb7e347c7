package io.holdfast.core;

import io.holdfast.ErrorCode;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Names;
import io.holdfast.WatchEvent;
import io.holdfast.model.Command;
import io.holdfast.model.Command.Acquire;
import io.holdfast.model.Command.AcquireAll;
import io.holdfast.model.Command.CancelWait;
import io.holdfast.model.Command.ClientCommand;
import io.holdfast.model.Command.CloseSession;
import io.holdfast.model.Command.ExpireSession;
import io.holdfast.model.Command.KeepAlive;
import io.holdfast.model.Command.OpenSession;
import io.holdfast.model.Command.Release;
import io.holdfast.model.Command.Renew;
import io.holdfast.model.Command.Revoke;
import io.holdfast.model.Command.Tick;
import io.holdfast.model.KeyCommand;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import io.holdfast.model.Reply.Failed;
import java.util.function.Consumer;

/**
 * How {@link LockTable} applies one command: the table's clock moves to the command's time (never
 * back), then the command goes, for the identity that sent it, to the part that keeps its rule: the
 * members' own commands (tick, expire, report a version, set the quotas; refused when an identity
 * sends one) and the operators' (revoke, end a session, access rules, the deny list of tokens) after
 * their own access check; a client command through its session's {@link ReplyMemory}, then the access rules,
 * then the part that applies it ({@link Fresh}). One is made for each command the table applies.
 *
 * <p>Guarantees: {@link #apply} never throws for a command, whatever its content; malformed input
 * is refused before anything changes, and what a part throws by mistake is answered the same way
 * on every replica. It holds no state of its own: the parts ({@link TableParts}) hold it, and every
 * path that ends a session ends it one way ({@link #end}).
 */
final class Dispatch implements Command.Visitor<Reply> {
    private final TableParts parts;
    private final String identity;
    private final EventSink events;

    private Dispatch(TableParts parts, String identity, EventSink events) {
        this.parts = parts;
        this.identity = identity;
        this.events = events;
    }

    /**
     * Applies one command in its envelope, telling {@code changes} (null: nobody) of every change
     * to holders, queues and registers: {@link LockTable#apply(Command.Envelope, EventSink,
     * Consumer)}.
     */
    static Reply apply(TableParts parts, Command.Envelope envelope, EventSink events, Consumer<WatchEvent> changes) {
        parts.queues.changes = changes;
        try {
            return applyEnvelope(parts, envelope, events);
        } finally {
            parts.queues.changes = null;
        }
    }

    private static Reply applyEnvelope(TableParts parts, Command.Envelope envelope, EventSink events) {
        if (envelope == null) {
            return Failed.of(ErrorCode.INVALID_ARGUMENT, "command must not be null");
        }
        Command command = envelope.command();
        String identity = envelope.identity();
        try {
            parts.queues.advance(envelope.time());
            parts.revokedTokens.expire(parts.queues.now());
            if (identity != null && CommandKinds.membersOnly(command)) {
                // The members' own commands carry no identity; one that does was sent by someone else.
                return parts.admission.refuse(command.getClass().getSimpleName() + " is proposed by the leader only");
            }
            return command.accept(new Dispatch(parts, identity, events));
        } catch (InvalidArgumentException e) {
            return Failed.of(ErrorCode.INVALID_ARGUMENT, e.getMessage());
        } catch (RuntimeException e) {
            // A bug, not bad input. Every replica hits it the same way on the same entry, so
            // answering it keeps them equal; throwing would stop every replica at once.
            return Failed.of(
                    ErrorCode.INVALID_ARGUMENT,
                    "internal error applying " + command.getClass().getSimpleName() + ": " + e);
        }
    }

    @Override
    public Reply closeSession(CloseSession c) {
        return client(c);
    }

    @Override
    public Reply acquire(Acquire c) {
        return client(c);
    }

    @Override
    public Reply acquireAll(AcquireAll c) {
        return client(c);
    }

    @Override
    public Reply release(Release c) {
        return client(c);
    }

    @Override
    public Reply renew(Renew c) {
        return client(c);
    }

    @Override
    public Reply cancelWait(CancelWait c) {
        return client(c);
    }

    @Override
    public Reply registerSet(RegisterSet c) {
        return client(c);
    }

    @Override
    public Reply keys(KeyCommand c) {
        return client(c);
    }

    @Override
    public Reply openSession(OpenSession c) {
        return parts.sessions.open(c, identity, parts.queues.now(), parts.memberVersions.floor());
    }

    @Override
    public Reply revoke(Revoke c) {
        Names.check(c.name());
        Failed refused = parts.admission.checkRevoke(identity, c.name());
        return refused != null ? refused : parts.releases.revoke(c, events);
    }

    @Override
    public Reply endSession(Command.EndSession c) {
        Session s = parts.sessions.get(c.sessionId());
        boolean own = s != null && identity != null && identity.equals(s.identity);
        if (!own && !parts.admission.isAdmin(identity)) {
            // The same answer whether or not the session exists: ids are not probed this way.
            return parts.admission.denied(identity, "end", "session " + c.sessionId());
        }
        if (s == null) {
            return Sessions.unknown(c.sessionId());
        }
        int holds = s.holdCount;
        end(s, true);
        return new Reply.Ok(holds);
    }

    @Override
    public Reply setAccessRules(Command.SetAccessRules c) {
        return parts.admission.setAccessRules(c, identity);
    }

    @Override
    public Reply revokeToken(Command.RevokeToken c) {
        return parts.admission.isAdmin(identity)
                ? parts.revokedTokens.revoke(c, parts.queues.now())
                : parts.admission.denied(identity, "revoke", "token " + c.jti());
    }

    @Override
    public Reply setQuotas(Command.SetQuotas c) {
        return parts.admission.setQuotas(c);
    }

    @Override
    public Reply reportVersion(Command.ReportVersion c) {
        parts.memberVersions.report(c.member(), c.version());
        return Reply.Ok.INSTANCE;
    }

    @Override
    public Reply tick(Tick c) {
        parts.releases.tick(events);
        parts.registers.expire(parts.queues.now());
        return Reply.Ok.INSTANCE;
    }

    @Override
    public Reply keepAlive(KeepAlive c) {
        return parts.sessions.contains(c.sessionId()) ? Reply.Ok.INSTANCE : Sessions.unknown(c.sessionId());
    }

    @Override
    public Reply expireSession(ExpireSession c) {
        Session s = parts.sessions.get(c.sessionId());
        if (s == null) {
            return new Reply.Ok(0);
        }
        end(s, true);
        return new Reply.Ok(1);
    }

    /** A client command through its session's memory: a retry is answered from it, a new one applied. */
    private Reply client(ClientCommand c) {
        return parts.replies.answer(c, identity, session -> fresh(c, session));
    }

    /** A client command its session has not answered yet: the access rules, then {@link Fresh}. */
    private Reply fresh(ClientCommand c, Session session) {
        Reply refused = parts.admission.checkPermission(c, session.identity);
        if (refused != null) {
            return refused;
        }
        return c.accept(new Fresh(session));
    }

    /** Ends a session: deletes its keys, releases its holds, cancels its waits, grants what that frees. */
    private void end(Session s, boolean expired) {
        // PLANTED BUG (verification only): grant-after-expiry: an expired session that waits stays
        // in the table with its waits queued (so that snapshots can still name it); they can be
        // granted later, though its client was told that the session expired.
        boolean keepWaits = expired && s.waitsHead != null && parts.bugs.contains(PlantedBug.GRANT_AFTER_EXPIRY);
        if (!keepWaits) {
            parts.sessions.remove(s);
        }
        parts.registers.sessionEnded(
                s.id(), expired ? WatchEvent.Cause.SESSION_EXPIRED : WatchEvent.Cause.SESSION_CLOSED);
        parts.releases.endSession(s, expired, keepWaits, events);
    }

    /** A client command that passed its session's memory and the access rules: applied. */
    private final class Fresh implements Command.ClientVisitor<Reply> {
        private final Session session;

        Fresh(Session session) {
            this.session = session;
        }

        @Override
        public Reply acquire(Acquire c) {
            return parts.acquisitions.acquire(c, session);
        }

        @Override
        public Reply acquireAll(AcquireAll c) {
            return parts.acquisitions.acquireAll(c, session);
        }

        @Override
        public Reply release(Release c) {
            return parts.releases.release(c, session, events);
        }

        @Override
        public Reply renew(Renew c) {
            return parts.releases.renew(c, session);
        }

        @Override
        public Reply cancelWait(CancelWait c) {
            return parts.releases.cancelWait(c, session, events);
        }

        @Override
        public Reply registerSet(RegisterSet c) {
            return parts.registers.set(c);
        }

        @Override
        public Reply keys(KeyCommand c) {
            return parts.transactions.apply(c, session.id(), session.identity);
        }

        @Override
        public Reply closeSession(CloseSession c) {
            end(session, false);
            return Reply.Ok.INSTANCE;
        }
    }
}
