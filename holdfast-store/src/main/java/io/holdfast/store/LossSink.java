package io.holdfast.store;

/**
 * Where a backend reports losses it finds out about by itself (a ZooKeeper session expired, an
 * etcd lease was revoked, a lock node deleted by an operator). {@link StoreLockClient} turns them
 * into {@link io.holdfast.LockLostException}s on the affected leases and their callbacks.
 */
public interface LossSink {
    /** One grant is gone; {@code why} completes "lock x (token 7) was lost: ...". */
    void lost(Grant grant, String why);

    /** Every grant of this client is gone (its session with the store ended). */
    void allLost(String why);
}
