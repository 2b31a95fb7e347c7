package io.holdfast.core;

import io.holdfast.LockMode;
import java.util.Arrays;
import java.util.Objects;

/**
 * The commands {@link LockTable} applies. Every command carries {@code time}: the proposer's clock
 * in milliseconds of cluster time (the table never reads a clock). Commands that a client sends
 * carry an {@link Invocation} so that a retry after a lost reply is answered from the table's
 * memory instead of applied twice. Commands that only the leader proposes ({@link Tick}, {@link
 * ExpireSession}) and operator commands ({@link Revoke}) have none.
 */
public sealed interface Command {
    /** Cluster time in milliseconds at which the proposer issued the command. */
    long time();

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

        R setAccessRules(SetAccessRules c);

        R reportVersion(ReportVersion c);
    }

    /**
     * The same command stamped with another time: clients send commands with time 0 and the
     * proposer (the leader, or the in-process node) stamps its cluster time.
     */
    static Command withTime(Command c, long t) {
        if (c instanceof Acquire x) {
            return new Acquire(
                    t,
                    x.invocation(),
                    x.name(),
                    x.mode(),
                    x.permits(),
                    x.maxPermits(),
                    x.owner(),
                    x.waitMillis(),
                    x.leaseMillis(),
                    x.reentrant());
        } else if (c instanceof AcquireAll x) {
            return new AcquireAll(t, x.invocation(), x.names(), x.mode(), x.owner(), x.waitMillis(), x.leaseMillis());
        } else if (c instanceof Release x) {
            return new Release(t, x.invocation(), x.name(), x.token());
        } else if (c instanceof Renew x) {
            return new Renew(t, x.invocation(), x.name(), x.token());
        } else if (c instanceof CancelWait x) {
            return new CancelWait(t, x.invocation(), x.name(), x.waitSeq());
        } else if (c instanceof RegisterSet x) {
            return new RegisterSet(
                    t, x.invocation(), x.key(), x.expectedVersion(), x.value(), x.fenceName(), x.fenceToken());
        } else if (c instanceof CloseSession x) {
            return new CloseSession(t, x.invocation());
        } else if (c instanceof OpenSession x) {
            return new OpenSession(t, x.sessionId(), x.clientName(), x.ttlMillis(), x.lockDelayMillis());
        } else if (c instanceof KeepAlive x) {
            return new KeepAlive(t, x.sessionId());
        } else if (c instanceof ExpireSession x) {
            return new ExpireSession(t, x.sessionId());
        } else if (c instanceof Revoke x) {
            return new Revoke(t, x.name());
        } else if (c instanceof Tick) {
            return new Tick(t);
        } else if (c instanceof SetAccessRules x) {
            return new SetAccessRules(t, x.text());
        } else if (c instanceof ReportVersion x) {
            return new ReportVersion(t, x.member(), x.version());
        }
        throw new IllegalArgumentException("unknown command " + c);
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

    /** Commands sent by a client with an invocation id. */
    sealed interface ClientCommand extends Command {
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
    record OpenSession(long time, String sessionId, String clientName, long ttlMillis, long lockDelayMillis)
            implements Command {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.openSession(this);
        }
    }

    /** Checks that the session is alive. Liveness itself is tracked outside the table. */
    record KeepAlive(long time, String sessionId) implements Command {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.keepAlive(this);
        }
    }

    /** Ends a session on its client's request: everything it holds is released, no lock-delay. */
    record CloseSession(long time, Invocation invocation) implements ClientCommand {
        @Override
        public <R> R accept(ClientVisitor<R> visitor) {
            return visitor.closeSession(this);
        }
    }

    /** Ends a session whose heartbeats stopped: its holders are told, lock-delay applies. */
    record ExpireSession(long time, String sessionId) implements Command {
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
     * @param reentrant whether an owner that already holds the lock in a compatible mode gets
     *     another hold count on the same grant (otherwise such a request is a self-deadlock)
     */
    record Acquire(
            long time,
            Invocation invocation,
            String name,
            LockMode mode,
            int permits,
            int maxPermits,
            long owner,
            long waitMillis,
            long leaseMillis,
            boolean reentrant)
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
     * @param names the lock names, 1 to {@link Limits#MAX_MULTI_NAMES}, strictly ascending (sorted
     *     and distinct), none of them a semaphore
     * @param mode {@link LockMode#EXCLUSIVE} or {@link LockMode#SHARED}, for every name
     * @param owner as for {@link Acquire}; a multi-lock is not reentrant: an owner that holds one
     *     of the names is refused
     * @param waitMillis how long it may queue; 0 to try once
     * @param leaseMillis lease timeout of every grant; 0 for none
     */
    record AcquireAll(
            long time,
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

    /** Gives back one hold count of the grant with this token. */
    record Release(long time, Invocation invocation, String name, long token) implements ClientCommand {
        @Override
        public <R> R accept(ClientVisitor<R> visitor) {
            return visitor.release(this);
        }
    }

    /** Extends the lease timeout of the grant with this token by its lease time from now. */
    record Renew(long time, Invocation invocation, String name, long token) implements ClientCommand {
        @Override
        public <R> R accept(ClientVisitor<R> visitor) {
            return visitor.renew(this);
        }
    }

    /** Withdraws the waiter that the acquire with sequence number {@code waitSeq} queued. */
    record CancelWait(long time, Invocation invocation, String name, long waitSeq) implements ClientCommand {
        @Override
        public <R> R accept(ClientVisitor<R> visitor) {
            return visitor.cancelWait(this);
        }
    }

    /** Moves cluster time forward: waits past their deadline fail, leases past their timeout are lost. */
    record Tick(long time) implements Command {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.tick(this);
        }
    }

    /**
     * Writes a register if its version is {@code expectedVersion} (0: absent) and, when {@code
     * fenceName} is not null, only while {@code fenceToken} is a current grant of that lock.
     */
    record RegisterSet(
            long time,
            Invocation invocation,
            String key,
            long expectedVersion,
            byte[] value,
            String fenceName,
            long fenceToken)
            implements ClientCommand {
        @Override
        public <R> R accept(ClientVisitor<R> visitor) {
            return visitor.registerSet(this);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof RegisterSet r
                    && time == r.time
                    && invocation.equals(r.invocation)
                    && key.equals(r.key)
                    && expectedVersion == r.expectedVersion
                    && Arrays.equals(value, r.value)
                    && Objects.equals(fenceName, r.fenceName)
                    && fenceToken == r.fenceToken;
        }

        @Override
        public int hashCode() {
            return Objects.hash(time, invocation, key, expectedVersion, Arrays.hashCode(value), fenceName, fenceToken);
        }

        @Override
        public String toString() {
            return "RegisterSet[time=" + time + ", invocation=" + invocation + ", key=" + key + ", expectedVersion="
                    + expectedVersion + ", value=" + (value == null ? "null" : value.length + " bytes")
                    + ", fenceName=" + fenceName + ", fenceToken=" + fenceToken + "]";
        }
    }

    /** An operator takes every grant of {@code name} away; holders are told, waiters go next. */
    record Revoke(long time, String name) implements Command {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.revoke(this);
        }
    }

    /**
     * Replaces the access rules ({@link AccessRules} text form); {@code null} turns access control
     * off. Needs {@link AccessRules.Verb#ADMIN} while rules are on.
     */
    record SetAccessRules(long time, String text) implements Command {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.setAccessRules(this);
        }
    }

    /**
     * A member of the cluster says which protocol version its build speaks ({@link
     * Vocabulary#version()}); the table keeps the last report of each member, and the cluster's
     * version is the lowest among its members ({@link LockTable#memberVersions()}). Sent by the
     * member itself through the Raft port, with no identity, and time 0 (it must not move the
     * cluster clock: it comes from a node that may not lead).
     */
    record ReportVersion(long time, String member, int version) implements Command {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.reportVersion(this);
        }
    }

    /**
     * A command and the identity that sent it, as the leader authenticated it: what one log entry
     * holds per command. The identity is null for commands of an unauthenticated client (access
     * control off) and for the leader's own commands ({@link Tick}, {@link ExpireSession}).
     */
    record Authored(String identity, Command command) {
        public Authored {
            Objects.requireNonNull(command, "command");
        }

        /** A command without an identity. */
        public static Authored anonymous(Command command) {
            return new Authored(null, command);
        }
    }
}
