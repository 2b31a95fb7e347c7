package io.holdfast.client.internal;

import io.holdfast.AcquireOptions;
import io.holdfast.Capability;
import io.holdfast.DistributedLock;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Lease;
import io.holdfast.LockMode;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** A lock or one half of a read-write lock of a {@link ClientRuntime}. */
final class LockHandle implements DistributedLock {
    private final ClientRuntime rt;
    private final String name;
    private final LockMode mode;

    LockHandle(ClientRuntime rt, String name, LockMode mode) {
        this.rt = rt;
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
        check(options);
        return rt.acquire(name, mode, 1, 1, options, rt.threadOwner(), false).await();
    }

    @Override
    public Optional<Lease> tryAcquire() {
        check(AcquireOptions.tryOnce());
        return Optional.ofNullable(rt.acquire(name, mode, 1, 1, AcquireOptions.tryOnce(), rt.threadOwner(), true)
                .awaitUninterruptibly());
    }

    @Override
    public CompletableFuture<Lease> acquireAsync(AcquireOptions options) {
        check(options);
        return rt.acquire(name, mode, 1, 1, options, rt.newOwner(), false).forCaller();
    }

    private void check(AcquireOptions options) {
        if (options == null) {
            throw new InvalidArgumentException("options must not be null");
        }
        if (mode == LockMode.SHARED) {
            rt.requireCapability(Capability.READ_WRITE, "read-write locks");
        }
        if (options.leaseTimeout() != null) {
            rt.requireCapability(Capability.LEASE_TIMEOUT, "lease timeouts");
        }
    }

    @Override
    public String toString() {
        return "DistributedLock[" + name + ", " + mode + "]";
    }
}
