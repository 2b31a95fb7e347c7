package io.holdfast.client.internal;

import io.holdfast.AcquireOptions;
import io.holdfast.Capability;
import io.holdfast.Lease;
import io.holdfast.LockMode;
import io.holdfast.lease.Acquirer;
import io.holdfast.lease.GroupAcquirer;
import io.holdfast.lease.LeaseRequest;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How the handles of a {@link ClientRuntime} acquire ({@link io.holdfast.lease.Handles} checks every
 * argument and capability first), and on whose behalf. A blocking acquire or try is made on behalf
 * of the calling thread (one owner id per thread, so the service's deadlock detection sees what each
 * thread holds); an asynchronous one gets an owner of its own. A multi-lock is one command for all
 * its names (the service grants them together), not one acquire per name. The waits themselves are
 * {@link Waits}'.
 */
final class RuntimeAcquirer implements Acquirer, GroupAcquirer {
    private final String provider;
    private final Set<Capability> capabilities;
    private final Waits waits;
    private final AtomicLong owners = new AtomicLong();
    private final ThreadLocal<Long> threadOwner = ThreadLocal.withInitial(owners::incrementAndGet);

    /** @param capabilities the client's capabilities, as it answers them (not copied) */
    RuntimeAcquirer(String provider, Set<Capability> capabilities, Waits waits) {
        this.provider = provider;
        this.capabilities = capabilities;
        this.waits = waits;
    }

    @Override
    public String provider() {
        return provider;
    }

    @Override
    public Set<Capability> capabilities() {
        return capabilities;
    }

    @Override
    public Lease acquire(LeaseRequest r, AcquireOptions o) throws InterruptedException {
        return waits.acquire(r, o, threadOwner.get(), false).await();
    }

    @Override
    public Optional<Lease> tryAcquire(LeaseRequest r) {
        return Optional.ofNullable(waits.acquire(r, AcquireOptions.tryOnce(), threadOwner.get(), true)
                .awaitUninterruptibly());
    }

    @Override
    public CompletableFuture<Lease> acquireAsync(LeaseRequest r, AcquireOptions o) {
        return waits.acquire(r, o, owners.incrementAndGet(), false).forCaller();
    }

    @Override
    public List<Lease> acquireAll(List<String> names, LockMode mode, AcquireOptions o) throws InterruptedException {
        return waits.acquireAll(names, mode, o, threadOwner.get(), false).await();
    }

    @Override
    public Optional<List<Lease>> tryAcquireAll(List<String> names, LockMode mode) {
        return Optional.ofNullable(waits.acquireAll(names, mode, AcquireOptions.tryOnce(), threadOwner.get(), true)
                .awaitUninterruptibly());
    }

    @Override
    public CompletableFuture<List<Lease>> acquireAllAsync(List<String> names, LockMode mode, AcquireOptions o) {
        return waits.acquireAll(names, mode, o, owners.incrementAndGet(), false).forCaller();
    }
}
