package io.holdfast.model;

import io.holdfast.LockMode;
import java.util.Objects;

/**
 * The commands {@code io.holdfast.core.LockTable} applies. A command says what is asked, not when or by whom: the
 * log carries each in an {@link Envelope} with the proposer's cluster time (the table never reads
 * a clock) and the sender's identity. Commands that a client sends
 * carry an {@link Invocation} so that a retry after a lost reply is answered from the table's
 * memory instead of applied twice. Commands that only the leader proposes ({@link Tick}, {@link
 * ExpireSession}) and operator commands ({@link Revoke}) have none.
 *
 * <p>Most commands are records nested here. The register write ({@link RegisterSet}) and the key
 * commands ({@link KeyCommand}: {@link KeyDelete}, {@link CounterAdd}, and {@link Transaction}
 * with its compares and ops) are in files of their own; they are commands of this one sealed type
 * all the same, visited by the same {@link Visitor}.
 */
public sealed interface Command {
    /**
     * Calls the visitor's method for this command's type. Every place that must treat every
     * command (the table's dispatch, the log codec, the wire conversion, the access check) is a
     * visitor, so a new command does not compile until each of them says what it does with it.
     */
    <R> R accept(Visitor<R> visitor);

    /**
     * One method per command that a client sends with an invocation ({@link ClientCommand}).
     *
     * @param <R> what the visit gives back
     */
    interface ClientVisitor<R> {
        R closeSession(CloseSession c);

        R acquire(Acquire c);

        R acquireAll(AcquireAll c);

        R release(Release c);

        R renew(Renew c);

        R cancelWait(CancelWait c);

        R registerSet(RegisterSet c);

        /** The key commands of protocol version 6, each told apart by a {@link KeyCommand.Visitor}. */
        R keys(KeyCommand c);
    }

    /**
     * One method per command: those of {@link ClientVisitor} and the ones without an invocation.
     *
     * @param <R> what the visit gives back
     */
    interface Visitor<R> extends ClientVisitor<R> {
        R openSession(OpenSession c);

        R keepAlive(KeepAlive c);

        R expireSession(ExpireSession c);

        R tick(Tick c);

        R revoke(Revoke c);

        R endSession(EndSession c);

        R setAccessRules(SetAccessRules c);

        R reportVersion(ReportVersion c);

        R revokeToken(RevokeToken c);

        R setQuotas(SetQuotas c);
    }

    /**
     * Who sent a changing command, and which of its requests it is.
     *
     * @param sessionId the sending session
     * @param seq the client's sequence number of this request, positive, unique per session
     * @param ackedBelow every request of this session with a smaller seq has had its reply
     *     delivered: the table may forget those replies (Raft dissertation, section 6.3)
     */
    record Invocation(String sessionId, long seq, long ackedBelow) {
        public Invocation {
            Objects.requireNonNull(sessionId, "sessionId");
        }
    }

    /**
     * Commands sent by a client with an invocation id: those here, the register write ({@link
     * RegisterSet}) and the key commands ({@link KeyCommand}), each in a file of its own.
     */
    sealed interface ClientCommand extends Command
            permits CloseSession, Acquire, AcquireAll, Release, Renew, CancelWait, RegisterSet, KeyCommand {
        Invocation invocation();

        /** Calls the visitor's method for this command's type. */
        <R> R accept(ClientVisitor<R> visitor);

        @Override
        default <R> R accept(Visitor<R> visitor) {
            return accept((ClientVisitor<R>) visitor);
        }
    }

    /**
     * Opens a session. The id is chosen by the proposer (random, at least 128 bits) so that every
     * replica creates the same one; opening an id that exists with the same settings is answered
     * as a success (a retry).
     */
    record OpenSession(String sessionId, String clientName, long ttlMillis, long lockDelayMillis) implements Command {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.openSession(this);
        }
    }

    /** Checks that the session is alive. Liveness itself is tracked outside the table. */
    record KeepAlive(String sessionId) implements Command {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.keepAlive(this);
        }
    }

    /** Ends a session on its client's request: everything it holds is released, no lock-delay. */
    record CloseSession(Invocation invocation) implements ClientCommand {
        @Override
        public <R> R accept(ClientVisitor<R> visitor) {
            return visitor.closeSession(this);
        }
    }

    /** Ends a session whose heartbeats stopped: its holders are told, lock-delay applies. */
    record ExpireSession(String sessionId) implements Command {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.expireSession(this);
        }
    }

    /**
     * Asks for a lock, a read lock, or semaphore permits.
     *
     * @param name the lock or semaphore name
     * @param mode {@link LockMode#PERMITS} for a semaphore
     * @param permits permits wanted (1 for locks)
     * @param maxPermits the semaphore's size (1 for locks)
     * @param owner who, inside the session, asks: holds and waits of the same owner make the
     *     wait-for graph for deadlock detection
     * @param waitMillis how long it may queue; 0 to try once
     * @param leaseMillis lease timeout; 0 for none
     */
    record Acquire(
            Invocation invocation,
            String name,
            LockMode mode,
            int permits,
            int maxPermits,
            long owner,
            long waitMillis,
            long leaseMillis)
            implements ClientCommand {
        @Override
        public <R> R accept(ClientVisitor<R> visitor) {
            return visitor.acquire(this);
        }
    }

    /**
     * Asks for several locks at once, all or none (protocol version 2): granted in one step when
     * every name can be granted in that step, else queued as one wait with a place in the FIFO
     * queue of every name, granted when it heads all of them and every name fits. Each name gets a
     * grant of its own (its own fencing token, released and renewed by name), made in one step.
     *
     * @param names the lock names, 1 to {@code io.holdfast.core.Limits#MAX_MULTI_NAMES}, strictly ascending (sorted
     *     and distinct), none of them a semaphore
     * @param mode {@link LockMode#EXCLUSIVE} or {@link LockMode#SHARED}, for every name
     * @param owner as for {@link Acquire}; a multi-lock is not reentrant: an owner that holds one
     *     of the names is refused
     * @param waitMillis how long it may queue; 0 to try once
     * @param leaseMillis lease timeout of every grant; 0 for none
     */
    record AcquireAll(
            Invocation invocation,
            java.util.List<String> names,
            LockMode mode,
            long owner,
            long waitMillis,
            long leaseMillis)
            implements ClientCommand {
        @Override
        public <R> R accept(ClientVisitor<R> visitor) {
            return visitor.acquireAll(this);
        }

        public AcquireAll {
            names = names == null ? null : java.util.List.copyOf(names);
        }
    }

    /** Gives back the grant with this token. */
    record Release(Invocation invocation, String name, long token) implements ClientCommand {
        @Override
        public <R> R accept(ClientVisitor<R> visitor) {
            return visitor.release(this);
        }
    }

    /** Extends the lease timeout of the grant with this token by its lease time from now. */
    record Renew(Invocation invocation, String name, long token) implements ClientCommand {
        @Override
        public <R> R accept(ClientVisitor<R> visitor) {
            return visitor.renew(this);
        }
    }

    /** Withdraws the waiter that the acquire with sequence number {@code waitSeq} queued. */
    record CancelWait(Invocation invocation, String name, long waitSeq) implements ClientCommand {
        @Override
        public <R> R accept(ClientVisitor<R> visitor) {
            return visitor.cancelWait(this);
        }
    }

    /** Moves cluster time forward: waits past their deadline fail, leases past their timeout are lost. */
    record Tick() implements Command {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.tick(this);
        }
    }

    /** An operator takes every grant of {@code name} away; holders are told, waiters go next. */
    record Revoke(String name) implements Command {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.revoke(this);
        }
    }

    /**
     * An operator ends a session now, as if its heartbeats had stopped (etcd's {@code lease
     * revoke}): its holders are told they lost their grants, lock-delay applies, its waits are
     * dropped, and its client learns that the session expired. Allowed to an admin and to the
     * session's own identity. Protocol version 3.
     */
    record EndSession(String sessionId) implements Command {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.endSession(this);
        }
    }

    /**
     * Replaces the access rules ({@code io.holdfast.core.AccessRules} text form); {@code null} turns access control
     * off. Needs {@code io.holdfast.core.AccessRules.Verb#ADMIN} while rules are on.
     */
    record SetAccessRules(String text) implements Command {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.setAccessRules(this);
        }
    }

    /**
     * Puts one bearer token's id ({@code jti}) on the deny list, so that every node refuses the token
     * from this entry on, until {@code keepMillis} after the entry's time (the token's expiry, with a
     * margin for clocks, as its sender computed it); then the id is dropped. Needs {@code
     * io.holdfast.core.AccessRules.Verb#ADMIN} while rules are on. Protocol version 5.
     */
    record RevokeToken(String jti, long keepMillis) implements Command {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.revokeToken(this);
        }
    }

    /**
     * Sets the quotas in force while access control is off ({@code io.holdfast.core.Quotas}): each
     * quota named in {@code limits} to its value, every other to its default; an empty map sets
     * every default. While access rules are on, their own {@code limit} lines are in force instead,
     * and these come back into force when the rules are turned off. Proposed by the leader only,
     * from its {@code --limit} options, when the table's differ from them; the table refuses an
     * unknown name or a value out of range, changing nothing. Protocol version 7.
     *
     * @param limits quota name to value, kept sorted by name (the log's order)
     */
    record SetQuotas(java.util.Map<String, Long> limits) implements Command {
        public SetQuotas {
            limits = java.util.Collections.unmodifiableSortedMap(new java.util.TreeMap<>(limits));
            limits.values().forEach(v -> Objects.requireNonNull(v, "a quota's value"));
        }

        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.setQuotas(this);
        }
    }

    /**
     * A member of the cluster says which protocol version its build speaks ({@code
     * io.holdfast.core.Vocabulary#version()}); the table keeps the last report of each member, and the cluster's
     * version is the lowest among its members ({@code io.holdfast.core.LockTable#memberVersions()}). Sent by the
     * member itself through the Raft port, in an envelope with no identity and time 0 (it must not
     * move the cluster clock: it comes from a node that may not lead).
     */
    record ReportVersion(String member, int version) implements Command {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.reportVersion(this);
        }
    }

    /**
     * What the log holds for each command: the command, the cluster time in milliseconds at which
     * the proposer (the leader, or the in-process node) stamped it, and the identity that sent it
     * as the leader authenticated it. The identity is null for commands of an unauthenticated
     * client (access control off) and for the members' own commands ({@link Tick}, {@link
     * ExpireSession}). Clients send commands without a time; the proposer wraps each in its
     * envelope, once. Time 0 does not move the table's clock ({@link ReportVersion} is sent so by
     * members that may not lead).
     */
    record Envelope(long time, String identity, Command command) {
        public Envelope {
            Objects.requireNonNull(command, "command");
        }

        /** A command at {@code time} without an identity. */
        public static Envelope of(long time, Command command) {
            return new Envelope(time, null, command);
        }
    }
}
