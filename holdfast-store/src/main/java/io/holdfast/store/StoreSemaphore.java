package io.holdfast.store;

import io.holdfast.AcquireOptions;
import io.holdfast.DistributedSemaphore;
import io.holdfast.Lease;
import io.holdfast.LockMode;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** A semaphore handle. */
final class StoreSemaphore implements DistributedSemaphore {
    private final StoreLockClient client;
    private final String name;
    private final int maxPermits;

    StoreSemaphore(StoreLockClient client, String name, int maxPermits) {
        this.client = client;
        this.name = name;
        this.maxPermits = maxPermits;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int maxPermits() {
        return maxPermits;
    }

    @Override
    public Lease acquire(int permits, AcquireOptions options) throws InterruptedException {
        return client.acquire(name, LockMode.PERMITS, permits, maxPermits, options);
    }

    @Override
    public Optional<Lease> tryAcquire(int permits) {
        return client.tryAcquire(name, LockMode.PERMITS, permits, maxPermits);
    }

    @Override
    public CompletableFuture<Lease> acquireAsync(int permits, AcquireOptions options) {
        return client.acquireAsync(name, LockMode.PERMITS, permits, maxPermits, options);
    }

    @Override
    public String toString() {
        return "Semaphore[" + name + ", " + maxPermits + " permits]";
    }
}
