package io.holdfast.store;

import io.holdfast.AcquireOptions;
import io.holdfast.DistributedLock;
import io.holdfast.Lease;
import io.holdfast.LockMode;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** A lock handle: exclusive, or the shared half of a read-write lock. */
final class StoreLock implements DistributedLock {
    private final StoreLockClient client;
    private final String name;
    private final LockMode mode;

    StoreLock(StoreLockClient client, String name, LockMode mode) {
        this.client = client;
        this.name = name;
        this.mode = mode;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public LockMode mode() {
        return mode;
    }

    @Override
    public Lease acquire(AcquireOptions options) throws InterruptedException {
        return client.acquire(name, mode, 1, 1, options);
    }

    @Override
    public Optional<Lease> tryAcquire() {
        return client.tryAcquire(name, mode, 1, 1);
    }

    @Override
    public CompletableFuture<Lease> acquireAsync(AcquireOptions options) {
        return client.acquireAsync(name, mode, 1, 1, options);
    }

    @Override
    public String toString() {
        return (mode == LockMode.SHARED ? "ReadLock[" : "Lock[") + name + "]";
    }
}
