package io.holdfast.etcd;

import io.holdfast.ConflictException;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Keys;
import io.holdfast.PutOptions;
import io.holdfast.Txn;
import io.holdfast.TxnResult;
import io.holdfast.UnsupportedFeatureException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The ops of one branch played on a copy of what a {@link KeyCommit} round read: each op's version
 * check and result, and each written key's final state. Pure but for {@link Leases}.
 */
final class KeyPlan {
    /** The etcd leases keys live on. */
    interface Leases {
        /** The session's etcd lease (an attached key's), granting a new one if it was lost. */
        long session();

        /** The session id an attached key names as its owner. */
        String sessionId();

        /** A new etcd lease of {@code ttl} (rounded up to whole seconds) for a key of its own. */
        long grant(Duration ttl);

        /** Revokes a lease granted for a write that did not happen; it expires by itself if this fails. */
        void revoke(long leaseId);
    }

    private final Map<String, StoredKey> state;
    private final Leases leases;
    private final Map<String, StoredKey> written = new LinkedHashMap<>();
    /** The time to live of each written key that needs a lease of its own. */
    private final Map<String, Duration> ttl = new HashMap<>();

    KeyPlan(Map<String, StoredKey> read, Leases leases) {
        this.state = new HashMap<>(read);
        this.leases = leases;
    }

    /**
     * Plays one op.
     *
     * @param label what names the op in a refusal ("then op 2: "), or ""
     * @throws ConflictException when the key's version is not the op's expected one
     * @throws InvalidArgumentException when an add meets a key that is not a counter, or overflows
     */
    TxnResult.OpResult apply(Txn.Op op, String label) {
        StoredKey cur = state.get(op.key());
        long version = cur == null ? 0 : cur.version();
        if (op instanceof Txn.Op.Put p) {
            PutOptions o = p.options();
            check(label, p.key(), o.expectedVersion(), version);
            if (o.attached() && !o.ttl().isZero()) {
                throw new UnsupportedFeatureException("the etcd provider cannot attach key " + p.key()
                        + " to the session and give it a time to live at once: an etcd key lives on one lease");
            }
            String owner = o.attached() ? leases.sessionId() : null;
            long lease = o.attached() ? leases.session() : 0;
            set(
                    new StoredKey(p.key(), version + 1, p.value(), owner, 0, lease),
                    o.ttl().isZero() ? null : o.ttl());
            return new TxnResult.OpResult(version + 1, null, 0);
        } else if (op instanceof Txn.Op.Delete d) {
            check(label, d.key(), d.expectedVersion(), version);
            state.put(d.key(), null);
            written.put(d.key(), null);
            ttl.remove(d.key());
            return new TxnResult.OpResult(version, null, 0);
        } else if (op instanceof Txn.Op.Add a) {
            long sum = add(label, a, cur);
            byte[] value = ByteBuffer.allocate(Long.BYTES).putLong(sum).array();
            StoredKey next = cur == null
                    ? new StoredKey(a.key(), 1, value, null, 0, 0)
                    : new StoredKey(a.key(), version + 1, value, cur.owner(), 0, cur.lease());
            set(next, ttl.get(a.key()));
            return new TxnResult.OpResult(version + 1, null, sum);
        }
        return new TxnResult.OpResult(version, cur == null ? null : cur.value(), 0);
    }

    private static void check(String label, String key, long expected, long version) {
        if (expected != Keys.ANY_VERSION && expected != version) {
            throw new ConflictException(
                    label + "key " + key + " is at version " + version + ", not " + expected, version);
        }
    }

    private static long add(String label, Txn.Op.Add a, StoredKey cur) {
        if (cur == null) {
            return a.delta();
        }
        byte[] value = cur.value();
        if (value.length != Long.BYTES) {
            throw new InvalidArgumentException(
                    label + "key " + a.key() + " holds " + value.length + " bytes, not a counter's " + Long.BYTES);
        }
        try {
            return Math.addExact(ByteBuffer.wrap(value).getLong(), a.delta());
        } catch (ArithmeticException e) {
            throw new InvalidArgumentException(label + "adding " + a.delta() + " to key " + a.key() + " overflows", e);
        }
    }

    private void set(StoredKey next, Duration timeToLive) {
        state.put(next.key(), next);
        written.put(next.key(), next);
        if (timeToLive == null) {
            ttl.remove(next.key());
        } else {
            ttl.put(next.key(), timeToLive);
        }
    }

    /** Each written key's final state, in the order first written; null: deleted. */
    Map<String, StoredKey> written() {
        return written;
    }

    /** The lease the written key {@code name} goes on; a lease granted for it is added to {@code granted}. */
    long leaseOf(String name, List<Long> granted) {
        Duration t = ttl.get(name);
        if (t == null) {
            return written.get(name).lease();
        }
        long id = leases.grant(t);
        granted.add(id);
        return id;
    }
}
