package io.holdfast.server.node;

import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.KeyCommand;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit trail of operator actions: every revoke, every end of a session by an operator, every
 * change of the access rules and of the quotas while access control is off ({@code --limit}),
 * allowed or refused, as the log applied it. Each is one line on the logger {@code holdfast.audit} and an
 * entry in a bounded memory of the latest {@value #KEPT}. Every replica writes the same entries
 * (they come from the applied log), so the trail survives the loss of any one node's log file.
 * Changes of the members ({@code change-members}) are the exception: Ratis, not the lock table,
 * applies them, so only the leader that made one records it.
 */
public final class AuditLog {
    private static final Logger LOG = LoggerFactory.getLogger("holdfast.audit");
    static final int KEPT = 1_000;

    /**
     * One audited action.
     *
     * @param clusterTime the command's cluster time, in milliseconds
     * @param identity who asked; null for an unauthenticated client
     * @param action {@code revoke}, {@code end-session}, {@code set-access-rules}, {@code
     *     set-quotas} or {@code change-members}
     * @param name the lock revoked; the session ended; the change, for {@code change-members}; the
     *     quotas that differ from the defaults ({@code NAME=N,…}, empty for none), for {@code
     *     set-quotas}; null for rule changes
     * @param outcome {@code ok}, or the refusal's code and message
     * @param revokedTokens the tokens taken away
     * @param grantedTokens the tokens granted to waiters as a result (the new holders)
     */
    public record Entry(
            long clusterTime,
            String identity,
            String action,
            String name,
            String outcome,
            List<Long> revokedTokens,
            List<Long> grantedTokens) {}

    private final String node;
    private final ArrayDeque<Entry> kept = new ArrayDeque<>();

    AuditLog(String node) {
        this.node = node;
    }

    /** Records the command if it is audited. */
    void applied(Command.Envelope envelope, Reply reply, List<Event> events) {
        if (envelope == null) {
            return;
        }
        Audited kind = envelope.command().accept(AUDITED);
        if (kind != null) {
            String outcome = reply instanceof Reply.Failed f ? f.code() + ": " + f.message() : "ok";
            record(kind.entry(envelope, outcome, events));
        }
    }

    /** The operator actions, each with what its entry says. */
    private enum Audited {
        REVOKE {
            @Override
            Entry entry(Command.Envelope envelope, String outcome, List<Event> events) {
                String name = ((Command.Revoke) envelope.command()).name();
                Tokens t = Tokens.of(
                        events,
                        lost -> lost.reason() == Event.Reason.REVOKED,
                        g -> g.name().equals(name));
                return new Entry(envelope.time(), envelope.identity(), "revoke", name, outcome, t.taken, t.granted);
            }
        },
        END_SESSION {
            @Override
            Entry entry(Command.Envelope envelope, String outcome, List<Event> events) {
                Tokens t = Tokens.of(events, lost -> true, g -> true);
                String session = ((Command.EndSession) envelope.command()).sessionId();
                return new Entry(
                        envelope.time(), envelope.identity(), "end-session", session, outcome, t.taken, t.granted);
            }
        },
        SET_ACCESS_RULES {
            @Override
            Entry entry(Command.Envelope envelope, String outcome, List<Event> events) {
                return new Entry(
                        envelope.time(), envelope.identity(), "set-access-rules", null, outcome, List.of(), List.of());
            }
        },
        SET_QUOTAS {
            @Override
            Entry entry(Command.Envelope envelope, String outcome, List<Event> events) {
                StringBuilder limits = new StringBuilder();
                ((Command.SetQuotas) envelope.command())
                        .limits()
                        .forEach((name, value) -> limits.append(limits.length() == 0 ? "" : ",")
                                .append(name)
                                .append('=')
                                .append(value));
                return new Entry(
                        envelope.time(),
                        envelope.identity(),
                        "set-quotas",
                        limits.toString(),
                        outcome,
                        List.of(),
                        List.of());
            }
        },
        REVOKE_TOKEN {
            @Override
            Entry entry(Command.Envelope envelope, String outcome, List<Event> events) {
                String jti = ((Command.RevokeToken) envelope.command()).jti();
                return new Entry(
                        envelope.time(), envelope.identity(), "revoke-token", jti, outcome, List.of(), List.of());
            }
        };

        abstract Entry entry(Command.Envelope envelope, String outcome, List<Event> events);
    }

    /**
     * The tokens an action's events took away (the losses it caused) and handed out (the grants to
     * waiters that followed), each as far as the action's own filter says it caused them.
     */
    private static final class Tokens {
        final List<Long> taken = new ArrayList<>();
        final List<Long> granted = new ArrayList<>();

        static Tokens of(List<Event> events, Predicate<Event.Lost> takes, Predicate<Event.Granted> gives) {
            Tokens t = new Tokens();
            Event.Visitor<Void> visit = Event.Visitor.of(
                    g -> {
                        if (gives.test(g)) {
                            t.granted.add(g.token());
                        }
                    },
                    timedOut -> {}, // a wait ended, no token moved
                    lost -> {
                        if (takes.test(lost)) {
                            t.taken.add(lost.token());
                        }
                    },
                    expired -> {}); // its losses are events of their own
            events.forEach(e -> e.accept(visit));
            return t;
        }
    }

    /** Which commands are audited: a visitor, so a new command does not compile until it says. */
    private static final Command.Visitor<Audited> AUDITED = new Command.Visitor<>() {
        @Override
        public Audited revoke(Command.Revoke c) {
            return Audited.REVOKE;
        }

        @Override
        public Audited endSession(Command.EndSession c) {
            return Audited.END_SESSION;
        }

        @Override
        public Audited setAccessRules(Command.SetAccessRules c) {
            return Audited.SET_ACCESS_RULES;
        }

        @Override
        public Audited revokeToken(Command.RevokeToken c) {
            return Audited.REVOKE_TOKEN;
        }

        @Override
        public Audited setQuotas(Command.SetQuotas c) {
            return Audited.SET_QUOTAS;
        }

        // Sessions, locks and registers: the everyday commands, not audited.

        @Override
        public Audited openSession(Command.OpenSession c) {
            return null;
        }

        @Override
        public Audited closeSession(Command.CloseSession c) {
            return null;
        }

        @Override
        public Audited acquire(Command.Acquire c) {
            return null;
        }

        @Override
        public Audited acquireAll(Command.AcquireAll c) {
            return null;
        }

        @Override
        public Audited release(Command.Release c) {
            return null;
        }

        @Override
        public Audited renew(Command.Renew c) {
            return null;
        }

        @Override
        public Audited cancelWait(Command.CancelWait c) {
            return null;
        }

        @Override
        public Audited registerSet(RegisterSet c) {
            return null;
        }

        @Override
        public Audited keys(KeyCommand c) {
            return null;
        }

        // The members' own commands.

        @Override
        public Audited keepAlive(Command.KeepAlive c) {
            return null;
        }

        @Override
        public Audited expireSession(Command.ExpireSession c) {
            return null;
        }

        @Override
        public Audited tick(Command.Tick c) {
            return null;
        }

        @Override
        public Audited reportVersion(Command.ReportVersion c) {
            return null;
        }
    };

    /** Records a change of the members that this node, as leader, made or failed to make. */
    void membersChanged(long clusterTime, String identity, String change, String outcome) {
        record(new Entry(clusterTime, identity, "change-members", change, outcome, List.of(), List.of()));
    }

    private void record(Entry entry) {
        synchronized (kept) {
            if (kept.size() == KEPT) {
                kept.removeFirst();
            }
            kept.addLast(entry);
        }
        LOG.info(
                "node={} action={} name={} by={} clusterTime={} outcome=\"{}\" revokedTokens={} newTokens={}",
                node,
                entry.action(),
                entry.name(),
                entry.identity() == null ? "(unauthenticated)" : entry.identity(),
                entry.clusterTime(),
                entry.outcome(),
                entry.revokedTokens(),
                entry.grantedTokens());
    }

    /** The latest entries, oldest first. */
    public List<Entry> entries() {
        synchronized (kept) {
            return List.copyOf(kept);
        }
    }
}
