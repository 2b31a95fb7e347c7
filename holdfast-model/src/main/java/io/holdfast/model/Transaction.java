package io.holdfast.model;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

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
public record Transaction(Command.Invocation invocation, List<Compare> compares, List<Op> then, List<Op> otherwise)
        implements KeyCommand {
    public Transaction {
        compares = compares == null ? null : List.copyOf(compares);
        then = then == null ? null : List.copyOf(then);
        otherwise = otherwise == null ? null : List.copyOf(otherwise);
    }

    @Override
    public <R> R accept(Visitor<R> visitor) {
        return visitor.transaction(this);
    }

    /**
     * The same transaction with every put that keeps its key's lifetime made one that detaches it:
     * what a cluster with a member older than protocol version 8 logs instead.
     */
    public Transaction withoutKeeping() {
        return new Transaction(invocation, compares, detached(then), detached(otherwise));
    }

    private static List<Op> detached(List<Op> ops) {
        return ops == null
                ? null
                : ops.stream()
                        .map(op -> op instanceof Op.Put p && p.lifetime() == io.holdfast.PutOptions.Lifetime.KEEP
                                ? (Op) p.withLifetime(io.holdfast.PutOptions.Lifetime.DETACH)
                                : op)
                        .toList();
    }

    /** How a {@link Compare.Version} compares the key's version with its number. */
    public enum Order {
        EQUAL,
        NOT_EQUAL,
        LESS,
        GREATER
    }

    /** One condition of a {@link Transaction}, read at the entry's place in the log. */
    public sealed interface Compare {
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
    public sealed interface Op {
        /** The key to which the op applies. */
        String key();

        /**
         * Writes the key as a {@link RegisterSet} without a fence does ({@code expectedVersion}
         * may also be {@link KeyDelete#ANY_VERSION}), its lifetime as {@link RegisterSet} says;
         * answers the new version. A put that names a {@code lease} (protocol version 10, ADR
         * 0006; only with {@link io.holdfast.PutOptions.Lifetime#ATTACH} and no time to live)
         * attaches the key to that session instead of the writing one.
         */
        record Put(
                String key,
                long expectedVersion,
                byte[] value,
                io.holdfast.PutOptions.Lifetime lifetime,
                long ttlMillis,
                String lease)
                implements Op {
            public Put {
                value = value == null ? null : value.clone();
                if (lifetime == null) {
                    throw new io.holdfast.InvalidArgumentException("a put's lifetime must not be null");
                }
            }

            /** A put on no lease: attached, if at all, to the writing session. */
            public Put(
                    String key,
                    long expectedVersion,
                    byte[] value,
                    io.holdfast.PutOptions.Lifetime lifetime,
                    long ttlMillis) {
                this(key, expectedVersion, value, lifetime, ttlMillis, null);
            }

            /** Attached ({@code attach}) or else detached: the meaning of a put of log type 21. */
            public Put(String key, long expectedVersion, byte[] value, boolean attach, long ttlMillis) {
                this(
                        key,
                        expectedVersion,
                        value,
                        attach ? io.holdfast.PutOptions.Lifetime.ATTACH : io.holdfast.PutOptions.Lifetime.DETACH,
                        ttlMillis);
            }

            /** Whether the put attaches the key to a session (the writing one, or its lease). */
            public boolean attach() {
                return lifetime == io.holdfast.PutOptions.Lifetime.ATTACH;
            }

            /** The same put with another lifetime (and no lease). */
            public Put withLifetime(io.holdfast.PutOptions.Lifetime other) {
                return new Put(key, expectedVersion, value, other, ttlMillis);
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
                        && lifetime == p.lifetime
                        && ttlMillis == p.ttlMillis
                        && Objects.equals(lease, p.lease);
            }

            @Override
            public int hashCode() {
                return Objects.hash(key, expectedVersion, Arrays.hashCode(value), lifetime, ttlMillis, lease);
            }

            @Override
            public String toString() {
                return "Put[key=" + key + ", expectedVersion=" + expectedVersion + ", "
                        + (value == null ? "null" : value.length + " bytes") + ", lifetime=" + lifetime
                        + ", ttlMillis=" + ttlMillis + (lease == null ? "" : ", lease=" + lease) + "]";
            }
        }

        /** Deletes the key as {@link KeyDelete} does; answers the version it had (0: absent). */
        record Delete(String key, long expectedVersion) implements Op {}

        /** Adds to the key's counter as {@link CounterAdd} does; answers the new value and version. */
        record Add(String key, long delta) implements Op {}

        /** Reads the key; answers its version (0: absent) and value. */
        record Get(String key) implements Op {}
    }
}
