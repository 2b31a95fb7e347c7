package io.holdfast.store;

import io.holdfast.AcquireOptions;
import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockTimeoutException;
import io.holdfast.SessionExpiredException;
import io.holdfast.UnavailableException;
import io.holdfast.lease.Acquirer;
import io.holdfast.lease.LeaseRequest;
import io.holdfast.lease.ManagedLease;
import io.holdfast.lease.Retries;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the handles of a {@link StoreLockClient} acquire ({@link Acquirer}): the handle's request,
 * with an owner and expiry of its own, goes to the backend, which waits; a store that cannot be
 * reached is retried while the wait lasts; the grant becomes a {@link StoreLease}.
 *
 * <p><b>What it guarantees.</b> Every acquire gets a fresh owner ({@code session:n}), kept by its
 * retries. A wait ends at its deadline with {@link LockTimeoutException}, and a {@code tryAcquire}
 * asks the store once. An unreachable store ({@link UnavailableException}) is retried with the
 * client's {@link io.holdfast.RetryPolicy}, never past the wait's deadline and not once the client
 * is closed or crashed. An interrupted or cancelled wait leaves nothing held: a grant that comes
 * after its future was completed, or after the client closed, is given back. {@link #endWaits}
 * ends every wait in progress.
 *
 * <p><b>What it does not.</b> It checks no argument or capability: the handles ({@link
 * io.holdfast.lease.Handles}) did. Fairness is the store's.
 *
 * <p><b>A failure story.</b> The client closes while a thread waits for {@code orders/42} and the
 * store grants it at that moment: the waiting thread was interrupted, but its grant arrived first,
 * so {@link #adopt} sees the client closed, gives the grant back and fails the wait with {@link
 * SessionExpiredException}, rather than hand out a lease nobody will release.
 */
final class StoreAcquirer implements Acquirer {
    /** The client's logger: its messages keep the category they always had. */
    private static final Logger log = LoggerFactory.getLogger(StoreLockClient.class);

    private final StoreLockClient client;
    private final StoreBackend backend;
    private final ClientOptions options;
    private final ExecutorService executor;
    private final StoreLeaseHost host;
    private final StoreReleases store;
    private final Set<Thread> waiting = ConcurrentHashMap.newKeySet();
    private final Set<CompletableFuture<Lease>> asyncWaits = ConcurrentHashMap.newKeySet();
    private final AtomicLong attempts = new AtomicLong();

    /** @param executor runs the asynchronous waits */
    StoreAcquirer(
            StoreLockClient client,
            StoreBackend backend,
            ClientOptions options,
            ExecutorService executor,
            StoreLeaseHost host,
            StoreReleases store) {
        this.client = client;
        this.backend = backend;
        this.options = options;
        this.executor = executor;
        this.host = host;
        this.store = store;
    }

    @Override
    public String provider() {
        return backend.provider();
    }

    @Override
    public Set<Capability> capabilities() {
        return client.capabilities();
    }

    @Override
    public Lease acquire(LeaseRequest lease, AcquireOptions options) throws InterruptedException {
        LockRequest request = request(lease, options);
        return acquire(
                request,
                Deadline.after(this.options.ticker(), options.waitTime()).cancelledWhen(this::closed),
                options.waitTime().isZero());
    }

    @Override
    public Optional<Lease> tryAcquire(LeaseRequest lease) {
        try {
            return Optional.of(acquire(lease, AcquireOptions.tryOnce()));
        } catch (LockTimeoutException busy) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UnavailableException("interrupted while trying " + lease.name(), e);
        }
    }

    @Override
    public CompletableFuture<Lease> acquireAsync(LeaseRequest lease, AcquireOptions options) {
        LockRequest request = request(lease, options);
        CompletableFuture<Lease> result = new CompletableFuture<>();
        Deadline deadline = Deadline.after(this.options.ticker(), options.waitTime())
                .cancelledWhen(() -> closed() || result.isDone());
        boolean once = options.waitTime().isZero();
        Future<?> task;
        try {
            task = executor.submit(() -> {
                try {
                    Lease granted = acquire(request, deadline, once);
                    if (!result.complete(granted)) {
                        giveBack(granted);
                    }
                } catch (Throwable e) {
                    result.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(new SessionExpiredException("the client was closed"));
        }
        asyncWaits.add(result);
        result.whenComplete((granted, error) -> {
            asyncWaits.remove(result);
            if (result.isCancelled() || closed()) {
                task.cancel(true);
            }
        });
        if (closed()) {
            result.completeExceptionally(new SessionExpiredException("the client was closed"));
        }
        return result;
    }

    /**
     * Ends every wait of the client, which has just closed: asynchronous ones with {@link
     * SessionExpiredException} (a grant that still arrives is given back), blocking ones by an
     * interrupt; then gives the interrupted waits a moment to take themselves off the store's queue
     * while the backend is still open (some drivers finish their current call before they notice
     * an interrupt).
     */
    void endWaits() {
        SessionExpiredException closedWhileWaiting = new SessionExpiredException("the client was closed");
        for (CompletableFuture<Lease> wait : asyncWaits) {
            wait.completeExceptionally(closedWhileWaiting);
        }
        for (Thread t : waiting) {
            t.interrupt();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        Thread me = Thread.currentThread();
        while (System.nanoTime() - deadline < 0) {
            boolean others = false;
            for (Thread t : waiting) {
                if (t != me) {
                    others = true;
                    t.interrupt();
                }
            }
            if (!others) {
                return;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private boolean closed() {
        return !client.isOpen();
    }

    /** The handle's request, with a fresh owner and the expiry its options ask for. */
    private LockRequest request(LeaseRequest lease, AcquireOptions options) {
        client.checkOpen();
        Duration leaseTimeout = options.leaseTimeout();
        String owner = backend.sessionId() + ":" + attempts.incrementAndGet();
        Duration expiry = leaseTimeout != null ? leaseTimeout : this.options.sessionTtl();
        return new LockRequest(lease, owner, expiry, leaseTimeout != null);
    }

    private Lease acquire(LockRequest request, Deadline deadline, boolean once) throws InterruptedException {
        Thread me = Thread.currentThread();
        waiting.add(me);
        try {
            client.checkOpen();
            if (Thread.interrupted()) {
                throw new InterruptedException("interrupted before waiting for " + request.describe());
            }
            long startedNanos = options.ticker().nanos();
            Optional<Grant> grant = once ? backend.tryAcquire(request) : withRetries(request, deadline);
            if (grant.isEmpty()) {
                throw new LockTimeoutException(
                        once ? request.describe() + " is not free" : "timed out waiting for " + request.describe());
            }
            return adopt(grant.get(), startedNanos);
        } catch (InterruptedException e) {
            if (closed()) {
                throw new SessionExpiredException("the client was closed while waiting for " + request.describe());
            }
            throw e;
        } finally {
            waiting.remove(me);
        }
    }

    /** The backend's wait, retried while the store cannot be reached, within the wait's deadline. */
    private Optional<Grant> withRetries(LockRequest request, Deadline deadline) throws InterruptedException {
        return Retries.of(options.retryPolicy(), options.ticker())
                .stopWhen(() -> closed() || store.crashed())
                .within(deadline::remainingNanos)
                .onRetry((e, attempt, pause) -> log.debug(
                        "{}: store unavailable while acquiring {}; retrying",
                        backend.provider(),
                        request.describe(),
                        e))
                .call(attempt -> backend.acquire(request, deadline), e -> e instanceof UnavailableException);
    }

    /**
     * Turns a grant into a lease, or gives it back if the client closed meanwhile. The watchdog
     * counts the expiry from the start of the acquire, the latest moment known to precede the
     * grant; after a wait longer than a renewal period that start may lie a whole expiry back (the
     * grant came at the end), so the watchdog renews the grant at once and that answer decides
     * ({@link ManagedLease#startRenewals}): the lease is returned once it is confirmed, and given
     * back with the failure if it is not (the grant lapsed on its way here).
     */
    private Lease adopt(Grant grant, long startedNanos) throws InterruptedException {
        Duration every = backend.renewEvery(grant);
        StoreLease lease = new StoreLease(client, store, host, grant, startedNanos);
        host.add(lease);
        if (closed()) {
            host.remove(grant);
            lease.markReleased();
            if (!store.crashed()) {
                store.releaseQuietly(grant);
            }
            throw new SessionExpiredException(
                    "the client was closed while waiting for " + grant.request().describe());
        }
        if (every != null) {
            try {
                lease.startRenewals(every, grant.request().expiry()).get();
            } catch (ExecutionException e) {
                giveBack(lease);
                throw e.getCause() instanceof RuntimeException r ? r : new UnavailableException(e.getMessage(), e);
            } catch (InterruptedException e) {
                giveBack(lease);
                throw e;
            }
        }
        return lease;
    }

    private void giveBack(Lease lease) {
        try {
            lease.release();
        } catch (RuntimeException e) {
            log.debug("{}: giving back an unwanted grant failed; it will expire", backend.provider(), e);
        }
    }
}
