package io.holdfast.zookeeper;

import io.holdfast.PutOptions;
import io.holdfast.Txn;
import io.holdfast.store.KeyPlay;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * How the ZooKeeper provider stores the keys a {@link KeyCommit} round writes ({@link
 * KeyPlay.Writes}): each written key's final state and the node it needs.
 */
final class KeyPlan implements KeyPlay.Writes<KeyPlan.Next> {
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

    /**
     * A key as read or as written.
     *
     * @param attachment the ZooKeeper session the key's ephemeral node belongs to, against which it
     *     counts; 0 when the key is not attached
     */
    record Next(String key, long version, byte[] value, String owner, Life life, Duration ttl, long attachment)
            implements KeyPlay.Stored {}

    private final String sessionId;
    private final long zkSession;

    /** @param zkSession the ZooKeeper session an attached key's node is made by */
    KeyPlan(String sessionId, long zkSession) {
        this.sessionId = sessionId;
        this.zkSession = zkSession;
    }

    /** The keys as read, each null when absent, as the state a play starts from. */
    static Map<String, Next> of(Map<String, KeyNode> read) {
        Map<String, Next> state = new HashMap<>();
        read.forEach((k, n) -> state.put(
                k, n == null ? null : new Next(k, n.version(), n.value(), n.owner(), Life.KEEP, null, n.attachment())));
        return state;
    }

    @Override
    public Next put(Txn.Op.Put put, long version, Next current) {
        PutOptions o = put.options();
        Life life = o.attached() ? Life.ATTACHED : o.ttl().isZero() ? Life.PERSISTENT : Life.TTL;
        return new Next(
                put.key(),
                version,
                put.value(),
                o.attached() ? sessionId : null,
                life,
                o.ttl(),
                o.attached() ? zkSession : 0);
    }

    @Override
    public Next counted(String key, long version, byte[] value, Next current) {
        return current == null
                ? new Next(key, version, value, null, Life.PERSISTENT, Duration.ZERO, 0)
                : new Next(key, version, value, current.owner(), current.life(), current.ttl(), current.attachment());
    }
}
