package io.holdfast.client.internal;

import io.holdfast.AcquireOptions;
import io.holdfast.Capability;
import io.holdfast.DistributedSemaphore;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Lease;
import io.holdfast.LockMode;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** A semaphore of a {@link ClientRuntime}. */
final class SemaphoreHandle implements DistributedSemaphore {
    private final ClientRuntime rt;
    private final String name;
    private final int maxPermits;

    SemaphoreHandle(ClientRuntime rt, String name, int maxPermits) {
        this.rt = rt;
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
        check(permits, options);
        return rt.acquire(name, LockMode.PERMITS, permits, maxPermits, options, rt.threadOwner(), false)
                .await();
    }

    @Override
    public Optional<Lease> tryAcquire(int permits) {
        check(permits, AcquireOptions.tryOnce());
        return Optional.ofNullable(rt.acquire(
                        name, LockMode.PERMITS, permits, maxPermits, AcquireOptions.tryOnce(), rt.threadOwner(), true)
                .awaitUninterruptibly());
    }

    @Override
    public CompletableFuture<Lease> acquireAsync(int permits, AcquireOptions options) {
        check(permits, options);
        return rt.acquire(name, LockMode.PERMITS, permits, maxPermits, options, rt.newOwner(), false)
                .forCaller();
    }

    private void check(int permits, AcquireOptions options) {
        rt.requireCapability(Capability.SEMAPHORE, "semaphores");
        if (options == null) {
            throw new InvalidArgumentException("options must not be null");
        }
        if (permits < 1 || permits > maxPermits) {
            throw new InvalidArgumentException(
                    "permits must be between 1 and " + maxPermits + " for semaphore " + name + ", not " + permits);
        }
        if (options.leaseTimeout() != null) {
            rt.requireCapability(Capability.LEASE_TIMEOUT, "lease timeouts");
        }
    }

    @Override
    public String toString() {
        return "DistributedSemaphore[" + name + ", " + maxPermits + " permits]";
    }
}
