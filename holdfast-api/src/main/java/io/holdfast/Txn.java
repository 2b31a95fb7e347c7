package io.holdfast;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Several keys changed as one ({@link Keys#commit}; etcd's {@code Txn}, ZooKeeper's {@code multi},
 * Consul's {@code /v1/txn}): when every compare holds, the ops of {@link #then()} run in order,
 * else those of {@link #otherwise()}. All or nothing: when an op of the branch that runs is
 * refused (a version conflict, a limit), nothing changes and the commit throws.
 *
 * <pre>{@code
 * TxnResult moved = keys.commit(Txn.when(Txn.fence(lease), Txn.version("from", Txn.Order.EQUAL, 4))
 *         .then(Txn.put("from", rest), Txn.put("to", sum)));
 * }</pre>
 *
 * <p>A {@link #fence(Lease)} compare makes the whole branch a fenced write: it runs only while the
 * lease is its lock's current grant to this client's session, checked in the same step.
 *
 * <p>At most {@link Keys#MAX_TXN_OPS} compares and as many ops per branch, and {@link
 * Keys#MAX_TXN_BYTES} bytes of keys and values together.
 *
 * @param compares the conditions, all of which must hold for {@code then} to run
 * @param then the ops run when every compare holds
 * @param otherwise the ops run when one does not
 */
public record Txn(List<Compare> compares, List<Op> then, List<Op> otherwise) {
    public Txn {
        compares = copy(compares, "compares");
        then = copy(then, "then");
        otherwise = copy(otherwise, "otherwise");
    }

    private static <T> List<T> copy(List<T> items, String what) {
        if (items == null) {
            throw new InvalidArgumentException("the transaction's " + what + " must not be null");
        }
        for (T item : items) {
            if (item == null) {
                throw new InvalidArgumentException("the transaction's " + what + " must not hold null");
            }
        }
        if (items.size() > Keys.MAX_TXN_OPS) {
            throw new InvalidArgumentException(
                    "a transaction takes at most " + Keys.MAX_TXN_OPS + " " + what + ", not " + items.size());
        }
        return List.copyOf(items);
    }

    /** A transaction with these compares and, so far, no ops. */
    public static Txn when(Compare... compares) {
        return new Txn(List.of(compares), List.of(), List.of());
    }

    /** This transaction with {@code ops} run when every compare holds. */
    public Txn then(Op... ops) {
        return new Txn(compares, List.of(ops), otherwise);
    }

    /** This transaction with {@code ops} run when a compare fails. */
    public Txn otherwise(Op... ops) {
        return new Txn(compares, then, List.of(ops));
    }

    /** How a {@link Compare.Version} compares the key's version with its number. */
    public enum Order {
        EQUAL,
        NOT_EQUAL,
        LESS,
        GREATER
    }

    /** One condition, read in the same step as the ops run. */
    public sealed interface Compare {
        /** The key's version (0: absent) stands in {@code order} to {@code version}. */
        record Version(String key, Order order, long version) implements Compare {
            public Version {
                Names.check(key);
                Objects.requireNonNull(order, "order");
            }
        }

        /** The key is present and holds exactly {@code value}. */
        record Value(String key, byte[] value) implements Compare {
            public Value {
                Names.check(key);
                if (value == null) {
                    throw new InvalidArgumentException("the compared value must not be null (Absent compares absence)");
                }
                value = value.clone();
            }

            @Override
            public byte[] value() {
                return value.clone();
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
                return "Value[" + key + ", " + value.length + " bytes]";
            }
        }

        /** The key is absent. */
        record Absent(String key) implements Compare {
            public Absent {
                Names.check(key);
            }
        }

        /** {@code token} is a current grant of {@code lock} held by this client's session. */
        record Fence(String lock, long token) implements Compare {
            public Fence {
                Names.check(lock);
                if (token <= 0) {
                    throw new InvalidArgumentException("a fencing token is 1 or more, not " + token);
                }
            }
        }

        /** Session {@code sessionId} holds a grant of {@code lock} now. */
        record Holder(String lock, String sessionId) implements Compare {
            public Holder {
                Names.check(lock);
                Objects.requireNonNull(sessionId, "sessionId");
            }
        }

        /** Session {@code sessionId} exists: it has not ended. */
        record SessionAlive(String sessionId) implements Compare {
            public SessionAlive {
                Objects.requireNonNull(sessionId, "sessionId");
            }
        }
    }

    /** One op of a branch; each answers one {@link TxnResult.OpResult}. */
    public sealed interface Op {
        /** The key the op applies to. */
        String key();

        /** Writes the key as {@link Keys#put} does; answers its new version. */
        record Put(String key, byte[] value, PutOptions options) implements Op {
            public Put {
                Names.check(key);
                Keys.checkValue(value);
                value = value.clone();
                Objects.requireNonNull(options, "options");
            }

            @Override
            public byte[] value() {
                return value.clone();
            }

            @Override
            public boolean equals(Object o) {
                return o instanceof Put p
                        && key.equals(p.key)
                        && Arrays.equals(value, p.value)
                        && options.equals(p.options);
            }

            @Override
            public int hashCode() {
                return Objects.hash(key, Arrays.hashCode(value), options);
            }

            @Override
            public String toString() {
                return "Put[" + key + ", " + value.length + " bytes, " + options + "]";
            }
        }

        /** Deletes the key as {@link Keys#delete} does; answers the version it had (0: absent). */
        record Delete(String key, long expectedVersion) implements Op {
            public Delete {
                Names.check(key);
                if (expectedVersion < Keys.ANY_VERSION) {
                    throw new InvalidArgumentException("the expected version must be 0 or more, or ANY_VERSION");
                }
            }
        }

        /** Adds to the key's counter as {@link Keys#add} does; answers the new value and version. */
        record Add(String key, long delta) implements Op {
            public Add {
                Names.check(key);
            }
        }

        /** Reads the key; answers its version (0: absent) and value. */
        record Get(String key) implements Op {
            public Get {
                Names.check(key);
            }
        }
    }

    /** The key's version stands in {@code order} to {@code version}. */
    public static Compare version(String key, Order order, long version) {
        return new Compare.Version(key, order, version);
    }

    /** The key holds exactly {@code value}. */
    public static Compare value(String key, byte[] value) {
        return new Compare.Value(key, value);
    }

    /** The key is absent. */
    public static Compare absent(String key) {
        return new Compare.Absent(key);
    }

    /** The lease is still its lock's current grant to this client's session. */
    public static Compare fence(Lease lease) {
        if (lease == null) {
            throw new InvalidArgumentException("the fence's lease must not be null");
        }
        return new Compare.Fence(lease.name(), lease.fencingToken());
    }

    /** Session {@code sessionId} holds {@code lock} now. */
    public static Compare holder(String lock, String sessionId) {
        return new Compare.Holder(lock, sessionId);
    }

    /** Session {@code sessionId} has not ended. */
    public static Compare sessionAlive(String sessionId) {
        return new Compare.SessionAlive(sessionId);
    }

    /** Writes the key whatever its version. */
    public static Op put(String key, byte[] value) {
        return new Op.Put(key, value, PutOptions.any());
    }

    /** Writes the key as {@code options} say. */
    public static Op put(String key, byte[] value, PutOptions options) {
        return new Op.Put(key, value, options);
    }

    /** Deletes the key whatever its version. */
    public static Op delete(String key) {
        return new Op.Delete(key, Keys.ANY_VERSION);
    }

    /** Deletes the key if its version is {@code expectedVersion}. */
    public static Op delete(String key, long expectedVersion) {
        return new Op.Delete(key, expectedVersion);
    }

    /** Adds {@code delta} to the key's counter. */
    public static Op add(String key, long delta) {
        return new Op.Add(key, delta);
    }

    /** Reads the key. */
    public static Op get(String key) {
        return new Op.Get(key);
    }
}
