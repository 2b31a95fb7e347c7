// Ceiling 630 lines, one idea: the table's command vocabulary, every command a record of one sealed type, so that
// each visitor (the table, the log, the wire, the access check) must say what it does with each.
package io.holdfast.model;

import io.holdfast.LockMode;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The commands {@code io.holdfast.core.LockTable} applies. A command says what is asked, not when or by whom: the
 * log carries each in an {@link Envelope} with the proposer's cluster time (the table never reads
 * a clock) and the sender's identity. Commands that a client sends
 * carry an {@link Invocation} so that a retry after a lost reply is answered from the table's
 * memory instead of applied twice. Commands that only the leader proposes ({@link Tick}, {@link
 * ExpireSession}) and operator commands ({@link Revoke}) have none.
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

        /** The key commands of protocol version 6, each told apart by a {@link KeyVisitor}. */
        R keys(KeyCommand c);
    }

    /**
     * One method per key command ({@link KeyCommand}): the commands of protocol version 6 that
     * delete, count and change several keys at once. A visitor that treats them all alike (every
     * one is a client command with an invocation) says so once, in {@link ClientVisitor#keys};
     * one that treats them apart visits them with this.
     *
     * @param <R> what the visit gives back
     */
    interface KeyVisitor<R> {
        R keyDelete(KeyDelete c);

        R counterAdd(CounterAdd c);

        R transaction(Transaction c);
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

    /** The key commands of protocol version 6: client commands, told apart by a {@link KeyVisitor}. */
    sealed interface KeyCommand extends ClientCommand {
        /** Calls the visitor's method for this command's type. */
        <R> R accept(KeyVisitor<R> visitor);

        @Override
        default <R> R accept(ClientVisitor<R> visitor) {
            return visitor.keys(this);
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

    /**
     * Writes a register if its version is {@code expectedVersion} (0: absent) and, when {@code
     * fenceName} is not null, only while {@code fenceToken} is a current grant of that lock.
     *
     * <p>{@code ownFence} says whose grant the fence may be. True (what the six-argument
     * constructor makes, so every client's write and every {@code mem:} write): the grant must be
     * held by the writing session, the invocation's; a fence copied or forged from another session
     * is refused as a conflict. False: any current grant will do, as the table checked before
     * protocol version 4. False comes only from the log: entries of type 10 (written by older
     * builds, or by this one while a member of the cluster still speaks 3 or less) keep that
     * meaning for ever, so replicas of every build apply them alike. The wire carries no flag: a
     * client cannot ask for the weaker check.
     *
     * <p>A flag rather than a second record: the two writes have the same fields, the same access
     * check, the same reply and the same path through every visitor; only the log's type byte and
     * the table's fence check tell them apart, and a new record would make every visitor (the wire,
     * the audit log, the access check) say the same thing twice.
     *
     * <p>{@code attach} and {@code ttlMillis} (protocol version 6, log type 18) say how long the
     * written key lives: attached, it belongs to the writing session and is deleted in the same
     * step as that session ends (closed, expired, or ended by an operator); with a time to live, it
     * is deleted by the first {@link Tick} at or after the write's time plus {@code ttlMillis}
     * (etcd's lease, ZooKeeper's ephemeral and TTL nodes). Every write sets both afresh: a write
     * without them makes the key live until it is deleted, as a register does.
     */
    record RegisterSet(
            Invocation invocation,
            String key,
            long expectedVersion,
            byte[] value,
            String fenceName,
            long fenceToken,
            boolean ownFence,
            boolean attach,
            long ttlMillis)
            implements ClientCommand {
        /** A write whose fence, if any, must be the writing session's own grant. */
        public RegisterSet(
                Invocation invocation,
                String key,
                long expectedVersion,
                byte[] value,
                String fenceName,
                long fenceToken) {
            this(invocation, key, expectedVersion, value, fenceName, fenceToken, true);
        }

        /** A write that lives until it is deleted: neither attached nor with a time to live. */
        public RegisterSet(
                Invocation invocation,
                String key,
                long expectedVersion,
                byte[] value,
                String fenceName,
                long fenceToken,
                boolean ownFence) {
            this(invocation, key, expectedVersion, value, fenceName, fenceToken, ownFence, false, 0);
        }

        /** The same write with the check of type 10: the fence may be any session's current grant. */
        public RegisterSet withAnyFence() {
            return new RegisterSet(
                    invocation, key, expectedVersion, value, fenceName, fenceToken, false, attach, ttlMillis);
        }

        /** Whether the write says how long the key lives (attached, or a time to live): log type 18. */
        public boolean leased() {
            return attach || ttlMillis != 0;
        }

        @Override
        public <R> R accept(ClientVisitor<R> visitor) {
            return visitor.registerSet(this);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof RegisterSet r
                    && invocation.equals(r.invocation)
                    && key.equals(r.key)
                    && expectedVersion == r.expectedVersion
                    && Arrays.equals(value, r.value)
                    && Objects.equals(fenceName, r.fenceName)
                    && fenceToken == r.fenceToken
                    && ownFence == r.ownFence
                    && attach == r.attach
                    && ttlMillis == r.ttlMillis;
        }

        @Override
        public int hashCode() {
            return Objects.hash(
                    invocation,
                    key,
                    expectedVersion,
                    Arrays.hashCode(value),
                    fenceName,
                    fenceToken,
                    ownFence,
                    attach,
                    ttlMillis);
        }

        @Override
        public String toString() {
            return "RegisterSet[invocation=" + invocation + ", key=" + key + ", expectedVersion="
                    + expectedVersion + ", value=" + (value == null ? "null" : value.length + " bytes")
                    + ", fenceName=" + fenceName + ", fenceToken=" + fenceToken + ", ownFence=" + ownFence
                    + ", attach=" + attach + ", ttlMillis=" + ttlMillis + "]";
        }
    }

    /**
     * Deletes a key (protocol version 6) if its version is {@code expectedVersion}, or whatever its
     * version when that is {@link #ANY_VERSION}. Answered {@link Reply.Ok} with the version the key
     * had (0: it was absent, which an unconditional delete does not refuse), or {@link
     * Reply.Failed} {@code CONFLICT} with the key's version. A delete drops the key's version: a
     * key written again starts at version 1.
     */
    record KeyDelete(Invocation invocation, String key, long expectedVersion) implements KeyCommand {
        /** An expected version that any version matches. */
        public static final long ANY_VERSION = -1;

        @Override
        public <R> R accept(KeyVisitor<R> visitor) {
            return visitor.keyDelete(this);
        }
    }

    /**
     * Adds {@code delta} to the key's counter and answers the new value ({@link Reply.Counted}),
     * in one step (protocol version 6). A counter is a key whose value is exactly 8 bytes, a signed
     * 64-bit integer, big-endian (two's complement); an absent key counts as 0 and is created.
     * Refused with {@code INVALID_ARGUMENT} when the value is not a counter, and when the sum would
     * overflow. The key's lifetime (attached, time to live) stays as it was.
     */
    record CounterAdd(Invocation invocation, String key, long delta) implements KeyCommand {
        @Override
        public <R> R accept(KeyVisitor<R> visitor) {
            return visitor.counterAdd(this);
        }
    }

    /**
     * Several keys changed as one, in one log entry (protocol version 6; etcd's {@code Txn},
     * ZooKeeper's {@code multi}): when every compare holds, the ops of {@code then} run in order,
     * else those of {@code otherwise}; answered {@link Reply.Transacted} with which ran and each
     * op's result. All or nothing: when an op of the branch that runs is refused (a conflict, a
     * limit, a quota), nothing changes and the answer is that op's {@link Reply.Failed}, its
     * message starting with the branch and the op's place ({@code "then op 2: ..."}). Each compare
     * and op needs the access its single command needs. At most {@link io.holdfast.Keys#MAX_TXN_OPS}
     * compares and as many ops per branch, and {@link io.holdfast.Keys#MAX_TXN_BYTES} of keys and
     * values together. The API's {@link io.holdfast.Txn} becomes one by {@link TxnMapping}, the one
     * place that maps its compares and ops to these.
     */
    record Transaction(Invocation invocation, List<Compare> compares, List<Op> then, List<Op> otherwise)
            implements KeyCommand {
        public Transaction {
            compares = compares == null ? null : List.copyOf(compares);
            then = then == null ? null : List.copyOf(then);
            otherwise = otherwise == null ? null : List.copyOf(otherwise);
        }

        @Override
        public <R> R accept(KeyVisitor<R> visitor) {
            return visitor.transaction(this);
        }
    }

    /** How a {@link Compare.Version} compares the key's version with its number. */
    enum Order {
        EQUAL,
        NOT_EQUAL,
        LESS,
        GREATER
    }

    /** One condition of a {@link Transaction}, read at the entry's place in the log. */
    sealed interface Compare {
        /** The key's version (0: absent) is in this order to {@code version}. */
        record Version(String key, Order order, long version) implements Compare {}

        /** The key is present and its value is exactly these bytes. */
        record Value(String key, byte[] value) implements Compare {
            public Value {
                value = value == null ? null : value.clone();
            }

            @Override
            public byte[] value() {
                return value == null ? null : value.clone();
            }

            @Override
            public boolean equals(Object o) {
                return o instanceof Value v && key.equals(v.key) && Arrays.equals(value, v.value);
            }

            @Override
            public int hashCode() {
                return key.hashCode() * 31 + Arrays.hashCode(value);
            }

            @Override
            public String toString() {
                return "Value[key=" + key + ", " + (value == null ? "null" : value.length + " bytes") + "]";
            }
        }

        /** The key is absent. */
        record Absent(String key) implements Compare {}

        /**
         * {@code token} is a current grant of {@code lock} held by the transaction's own session:
         * the fence of every op of the branch, as one.
         */
        record Fence(String lock, long token) implements Compare {}

        /** The session {@code sessionId} holds a grant of {@code lock} now. */
        record Holder(String lock, String sessionId) implements Compare {}

        /** The session {@code sessionId} exists (has not ended). */
        record SessionAlive(String sessionId) implements Compare {}
    }

    /** One operation of a {@link Transaction}'s branch; each answers one {@link Reply.OpResult}. */
    sealed interface Op {
        /** The key to which the op applies. */
        String key();

        /**
         * Writes the key as a {@link RegisterSet} without a fence does ({@code expectedVersion}
         * may also be {@link KeyDelete#ANY_VERSION}); answers the new version.
         */
        record Put(String key, long expectedVersion, byte[] value, boolean attach, long ttlMillis) implements Op {
            public Put {
                value = value == null ? null : value.clone();
            }

            @Override
            public byte[] value() {
                return value == null ? null : value.clone();
            }

            @Override
            public boolean equals(Object o) {
                return o instanceof Put p
                        && key.equals(p.key)
                        && expectedVersion == p.expectedVersion
                        && Arrays.equals(value, p.value)
                        && attach == p.attach
                        && ttlMillis == p.ttlMillis;
            }

            @Override
            public int hashCode() {
                return Objects.hash(key, expectedVersion, Arrays.hashCode(value), attach, ttlMillis);
            }

            @Override
            public String toString() {
                return "Put[key=" + key + ", expectedVersion=" + expectedVersion + ", "
                        + (value == null ? "null" : value.length + " bytes") + ", attach=" + attach
                        + ", ttlMillis=" + ttlMillis + "]";
            }
        }

        /** Deletes the key as {@link KeyDelete} does; answers the version it had (0: absent). */
        record Delete(String key, long expectedVersion) implements Op {}

        /** Adds to the key's counter as {@link CounterAdd} does; answers the new value and version. */
        record Add(String key, long delta) implements Op {}

        /** Reads the key; answers its version (0: absent) and value. */
        record Get(String key) implements Op {}
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
