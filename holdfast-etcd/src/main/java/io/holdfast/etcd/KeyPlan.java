package io.holdfast.etcd;

import io.holdfast.Txn;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.store.KeyPlay;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How the etcd provider stores the keys a {@link KeyCommit} round writes ({@link KeyPlay.Writes}):
 * an attached key on the round's session lease, a key with a time to live on a lease of its own
 * (granted only when the round writes), any other key on no lease; an add leaves a key on the lease
 * it was on.
 */
final class KeyPlan implements KeyPlay.Writes<StoredKey> {
    /** The etcd leases keys live on. */
    interface Leases {
        /** The session's etcd lease (an attached key's), granting a new one if it was lost. */
        long session();

        /** The session's etcd lease if it has a live one, without granting one; else 0. */
        long live();

        /** A new etcd lease of {@code ttl} (rounded up to whole seconds) for a key of its own. */
        long grant(Duration ttl);

        /** Revokes a lease granted for a write that did not happen; it expires by itself if this fails. */
        void revoke(long leaseId);
    }

    private final String sessionId;
    private final long sessionLease;
    /** The time to live of each written key that needs a lease of its own. */
    private final Map<String, Duration> ttl = new HashMap<>();

    /**
     * @param sessionLease the lease an attached key goes on: the session's, as the round read its
     *     count of attached keys; 0 when the round attaches none
     */
    KeyPlan(String sessionId, long sessionLease) {
        this.sessionId = sessionId;
        this.sessionLease = sessionLease;
    }

    @Override
    public StoredKey put(Txn.Op.Put put, long version, StoredKey current) {
        boolean attached = put.options().attached();
        Duration timeToLive = put.options().ttl();
        if (attached && !timeToLive.isZero()) {
            throw new UnsupportedFeatureException("the etcd provider cannot attach key " + put.key()
                    + " to the session and give it a time to live at once: an etcd key lives on one lease");
        }
        if (timeToLive.isZero()) {
            ttl.remove(put.key());
        } else {
            ttl.put(put.key(), timeToLive);
        }
        return attached
                ? new StoredKey(put.key(), version, put.value(), sessionId, 0, sessionLease)
                : new StoredKey(put.key(), version, put.value(), null, 0, 0);
    }

    @Override
    public StoredKey counted(String key, long version, byte[] value, StoredKey current) {
        if (current == null) {
            ttl.remove(key);
            return new StoredKey(key, version, value, null, 0, 0);
        }
        return new StoredKey(key, version, value, current.owner(), 0, current.lease());
    }

    /**
     * The lease the written key {@code k} goes on; a lease granted for it (a time to live) is added
     * to {@code granted}.
     */
    long leaseOf(StoredKey k, Leases leases, List<Long> granted) {
        Duration t = ttl.get(k.key());
        if (t == null) {
            return k.lease();
        }
        long id = leases.grant(t);
        granted.add(id);
        return id;
    }
}
