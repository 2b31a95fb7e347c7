package io.holdfast.client.internal;

import io.holdfast.AcquireOptions;
import io.holdfast.Capability;
import io.holdfast.Lease;
import io.holdfast.LockMode;
import io.holdfast.lease.Acquirer;
import io.holdfast.lease.GroupAcquirer;
import io.holdfast.lease.LeaseRequest;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * How the handles of a {@link ClientRuntime} acquire ({@link io.holdfast.lease.Handles} checks every
 * argument and capability first), and on whose behalf. A blocking acquire or try is made on behalf
 * of the calling thread (one owner id per thread, so the service's deadlock detection sees what each
 * thread holds); an asynchronous one gets an owner of its own. A multi-lock is one command for all
 * its names (the service grants them together), not one acquire per name. The waits themselves are
 * {@link Waits}': the open session's, or, between two sessions, the next one's, waited for within
 * the acquire's own wait (ADR 0004), which is then shortened by that time.
 */
final class RuntimeAcquirer implements Acquirer, GroupAcquirer {
    private final String provider;
    private final Set<Capability> capabilities;
    private final ClientRuntime rt;
    private final AtomicLong owners = new AtomicLong();
    private final ThreadLocal<Long> threadOwner = ThreadLocal.withInitial(owners::incrementAndGet);

    /** @param capabilities the client's capabilities, as it answers them (not copied) */
    RuntimeAcquirer(String provider, Set<Capability> capabilities, ClientRuntime rt) {
        this.provider = provider;
        this.capabilities = capabilities;
        this.rt = rt;
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
        long begun = nanos();
        Waits waits = waitsInterruptibly(gapWait(o));
        return waits.acquire(r, rest(o, begun), threadOwner.get(), false).await();
    }

    @Override
    public Optional<Lease> tryAcquire(LeaseRequest r) {
        return Optional.ofNullable(waits(rt.options().requestTimeout())
                .acquire(r, AcquireOptions.tryOnce(), threadOwner.get(), true)
                .awaitUninterruptibly());
    }

    @Override
    public CompletableFuture<Lease> acquireAsync(LeaseRequest r, AcquireOptions o) {
        long owner = owners.incrementAndGet();
        long begun = nanos();
        return async(o, waits -> waits.acquire(r, rest(o, begun), owner, false).forCaller());
    }

    @Override
    public List<Lease> acquireAll(List<String> names, LockMode mode, AcquireOptions o) throws InterruptedException {
        long begun = nanos();
        Waits waits = waitsInterruptibly(gapWait(o));
        return waits.acquireAll(names, mode, rest(o, begun), threadOwner.get(), false)
                .await();
    }

    @Override
    public Optional<List<Lease>> tryAcquireAll(List<String> names, LockMode mode) {
        return Optional.ofNullable(waits(rt.options().requestTimeout())
                .acquireAll(names, mode, AcquireOptions.tryOnce(), threadOwner.get(), true)
                .awaitUninterruptibly());
    }

    @Override
    public CompletableFuture<List<Lease>> acquireAllAsync(List<String> names, LockMode mode, AcquireOptions o) {
        long owner = owners.incrementAndGet();
        long begun = nanos();
        return async(
                o,
                waits -> waits.acquireAll(names, mode, rest(o, begun), owner, false)
                        .forCaller());
    }

    /**
     * The waits of the open session; between two sessions, of the next one, within {@code wait}.
     *
     * @throws io.holdfast.UnavailableException if no session opened within it
     */
    private Waits waits(Duration wait) {
        return Replies.join(rt.live(wait)).waits();
    }

    /** As {@link #waits(Duration)}, for a caller that may be interrupted while it waits. */
    private Waits waitsInterruptibly(Duration wait) throws InterruptedException {
        CompletableFuture<LiveSession> live = rt.live(wait);
        try {
            return live.get().waits();
        } catch (ExecutionException e) {
            throw Replies.rethrow(Replies.unwrap(e));
        }
    }

    /**
     * Starts the acquire at once while a session is open; between two, once the next one is open
     * (failed on a callback thread if none opens within the wait).
     */
    private <T> CompletableFuture<T> async(AcquireOptions o, Function<Waits, CompletableFuture<T>> start) {
        CompletableFuture<LiveSession> live = rt.live(gapWait(o));
        if (live.isDone() && !live.isCompletedExceptionally()) {
            return start.apply(live.join().waits());
        }
        return rt.toCaller(live.thenCompose(session -> start.apply(session.waits())));
    }

    /** How long an acquire waits for a session: its own wait, or a request timeout for a wait of zero. */
    private Duration gapWait(AcquireOptions o) {
        return o.waitTime().isZero() ? rt.options().requestTimeout() : o.waitTime();
    }

    /** The options with the time spent waiting for a session taken off the wait. */
    private AcquireOptions rest(AcquireOptions o, long begunNanos) {
        long spent = nanos() - begunNanos;
        if (spent < 1_000_000L || o.waitTime().isZero()) {
            return o;
        }
        Duration left = o.waitTime().minusNanos(spent);
        AcquireOptions rest = AcquireOptions.waitUpTo(left.isNegative() ? Duration.ZERO : left);
        return o.leaseTimeout() == null ? rest : rest.withLeaseTimeout(o.leaseTimeout());
    }

    private long nanos() {
        return rt.options().ticker().nanos();
    }
}
