package io.holdfast.zookeeper;

import io.holdfast.ConflictException;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Keys;
import io.holdfast.PutOptions;
import io.holdfast.Txn;
import io.holdfast.TxnResult;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The ops of one branch played on a copy of what a {@link KeyCommit} round read: each op's version
 * check and result, and each written key's final state and lifetime. Pure.
 */
final class KeyPlan {
    /** How a written key lives: the node it needs. */
    enum Life {
        /** A persistent node. */
        PERSISTENT,
        /** An ephemeral node of this client's session. */
        ATTACHED,
        /** A TTL node. */
        TTL,
        /** Whatever node the key has (an add): its data is set in place. */
        KEEP
    }

    /** A written key's final state: {@code node} null when deleted. */
    record Next(String key, long version, byte[] value, String owner, Life life, Duration ttl) {}

    private final Map<String, Next> state = new HashMap<>();
    private final Map<String, Next> written = new LinkedHashMap<>();
    private final String sessionId;

    KeyPlan(Map<String, KeyNode> read, String sessionId) {
        read.forEach((k, n) ->
                state.put(k, n == null ? null : new Next(k, n.version(), n.value(), n.owner(), Life.KEEP, null)));
        this.sessionId = sessionId;
    }

    /**
     * Plays one op.
     *
     * @param label what names the op in a refusal ("then op 2: "), or ""
     * @throws ConflictException when the key's version is not the op's expected one
     * @throws InvalidArgumentException when an add meets a key that is not a counter, or overflows
     */
    TxnResult.OpResult apply(Txn.Op op, String label) {
        Next cur = state.get(op.key());
        long version = cur == null ? 0 : cur.version();
        if (op instanceof Txn.Op.Put p) {
            PutOptions o = p.options();
            check(label, p.key(), o.expectedVersion(), version);
            Life life = o.attached() ? Life.ATTACHED : o.ttl().isZero() ? Life.PERSISTENT : Life.TTL;
            set(p.key(), new Next(p.key(), version + 1, p.value(), o.attached() ? sessionId : null, life, o.ttl()));
            return new TxnResult.OpResult(version + 1, null, 0);
        } else if (op instanceof Txn.Op.Delete d) {
            check(label, d.key(), d.expectedVersion(), version);
            set(d.key(), null);
            return new TxnResult.OpResult(version, null, 0);
        } else if (op instanceof Txn.Op.Add a) {
            long sum = add(label, a, cur);
            byte[] value = ByteBuffer.allocate(Long.BYTES).putLong(sum).array();
            Next next = cur == null
                    ? new Next(a.key(), 1, value, null, Life.PERSISTENT, Duration.ZERO)
                    : new Next(a.key(), version + 1, value, cur.owner(), cur.life(), cur.ttl());
            set(a.key(), next);
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

    private static long add(String label, Txn.Op.Add a, Next cur) {
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

    private void set(String key, Next next) {
        state.put(key, next);
        written.put(key, next);
    }

    /** Each written key's final state, in the order first written; a null value: deleted. */
    Map<String, Next> written() {
        return written;
    }
}
