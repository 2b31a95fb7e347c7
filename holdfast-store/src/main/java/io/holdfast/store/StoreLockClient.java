// Over 400 lines: the store engine's whole surface (handles, waits, the watchdog's host, registers,
// close); the lease machinery is holdfast-lease's. Not split further yet (issue 19 item 4).
package io.holdfast.store;

import io.holdfast.AcquireOptions;
import io.holdfast.Admin;
import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.DistributedLock;
import io.holdfast.DistributedMultiLock;
import io.holdfast.DistributedReadWriteLock;
import io.holdfast.DistributedSemaphore;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockMode;
import io.holdfast.LockTimeoutException;
import io.holdfast.SessionExpiredException;
import io.holdfast.UnavailableException;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.VersionedRegister;
import io.holdfast.lease.Acquirer;
import io.holdfast.lease.Handles;
import io.holdfast.lease.LeaseHost;
import io.holdfast.lease.LeaseRequest;
import io.holdfast.lease.ManagedLease;
import io.holdfast.spi.CrashSimulation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Holdfast API over a {@link StoreBackend}: what every store-backed provider hands to its
 * users. A provider's {@code open} builds its backend and returns {@code new StoreLockClient(backend,
 * options)}.
 *
 * <p><b>What it guarantees</b>, given a backend that keeps the {@link StoreBackend} contract:
 *
 * <ul>
 *   <li>Every argument is checked before the store is touched, and a feature the backend does not
 *       declare is refused with {@link UnsupportedFeatureException} naming the provider, never a
 *       silent no-op.
 *   <li>Every acquire gets a fresh owner, so leases are not reentrant (the {@code Lock} view counts
 *       reentry per thread on top). Waits end at their deadline with {@link LockTimeoutException};
 *       an interrupted or cancelled wait leaves nothing held; a grant that races a cancel is given
 *       back.
 *   <li>A store that cannot be reached is retried with the client's {@link
 *       io.holdfast.RetryPolicy} while the wait lasts, then reported as {@link
 *       UnavailableException}; a {@code tryAcquire} tries once. A release is retried the same
 *       way, and "not held" after an attempt whose answer was lost counts as released.
 *   <li>The watchdog renews every held grant the backend asks it to renew. A lease is reported lost
 *       (callbacks, {@link io.holdfast.LockLostException}) when the store refuses a renewal, when
 *       the backend reports a loss, or when no renewal was acknowledged for a whole expiry.
 *   <li>{@link #close()} ends every wait of this client with {@link SessionExpiredException} and
 *       releases every lease it holds.
 * </ul>
 *
 * <p>Leases and handles are the shared machinery of {@code holdfast-lease} ({@link ManagedLease},
 * {@link Handles}), so their rules (loss listeners, the watchdog's period and expiry, when a
 * capability is checked) are the same as the Holdfast server client's.
 *
 * <p><b>What it does not guarantee</b>: fairness or mutual exclusion beyond what the store gives.
 * Those are the backend's, and {@link #capabilities()} says which.
 */
public final class StoreLockClient implements LockClient, CrashSimulation {
    private static final Logger log = LoggerFactory.getLogger(StoreLockClient.class);
    private static final AtomicInteger CLIENTS = new AtomicInteger();

    private final StoreBackend backend;
    private final ClientOptions options;
    private final Set<Capability> capabilities;
    private final StoreRegisters registers;
    private final ExecutorService executor;
    private final ScheduledExecutorService scheduler;
    private final boolean ownScheduler;
    private final Map<Grant, StoreLease> leases = new ConcurrentHashMap<>();
    private final Set<Thread> waiting = ConcurrentHashMap.newKeySet();
    private final Set<CompletableFuture<Lease>> asyncWaits = ConcurrentHashMap.newKeySet();
    private final AtomicLong attempts = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final LeaseHost host = new Host();
    private final Acquirer acquirer = new Engine();
    private volatile boolean crashed;

    /**
     * Wraps a backend. On a refusal (an undeclared lock-delay) the backend is closed before the
     * exception leaves.
     *
     * @throws UnsupportedFeatureException if the options ask for what the backend cannot do
     */
    public StoreLockClient(StoreBackend backend, ClientOptions options) {
        if (backend == null || options == null) {
            throw new InvalidArgumentException("a store client needs a backend and options");
        }
        this.backend = backend;
        this.options = options;
        // Multi-locks are this client's own (names taken one by one in sorted order): every store has them.
        EnumSet<Capability> declared = EnumSet.copyOf(backend.capabilities());
        declared.add(Capability.MULTI_LOCK);
        this.capabilities = Collections.unmodifiableSet(declared);
        if (!options.lockDelay().isZero() && !capabilities.contains(Capability.LOCK_DELAY)) {
            backend.close();
            throw unsupported("lock-delay");
        }
        this.registers = capabilities.contains(Capability.REGISTERS) ? backend.registers() : null;
        if (capabilities.contains(Capability.REGISTERS) && registers == null) {
            backend.close();
            throw new IllegalStateException(
                    "the " + backend.provider() + " backend declares registers but has none: a bug in the provider");
        }
        int id = CLIENTS.incrementAndGet();
        this.executor = Executors.newCachedThreadPool(daemon("holdfast-" + backend.provider() + "-" + id + "-worker"));
        // The watchdogs' renewals run on the scheduler of the options when one is given (shared,
        // never shut down here), else on threads of this client's own.
        this.ownScheduler = options.scheduler().isEmpty();
        this.scheduler = options.scheduler()
                .orElseGet(() -> Executors.newScheduledThreadPool(
                        2, daemon("holdfast-" + backend.provider() + "-" + id + "-watchdog")));
        backend.start(new LossSink() {
            @Override
            public void lost(Grant grant, String why) {
                StoreLease lease = leases.get(grant);
                if (lease != null) {
                    lease.markLost(why);
                }
            }

            @Override
            public void allLost(String why) {
                for (StoreLease lease : new ArrayList<>(leases.values())) {
                    lease.markLost(why);
                }
            }
        });
    }

    private static ThreadFactory daemon(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    // ---- LockClient

    @Override
    public DistributedLock lock(String name) {
        checkOpen();
        return Handles.lock(acquirer, name);
    }

    @Override
    public DistributedReadWriteLock readWriteLock(String name) {
        checkOpen();
        return Handles.readWriteLock(acquirer, name);
    }

    @Override
    public DistributedSemaphore semaphore(String name, int permits) {
        checkOpen();
        return Handles.semaphore(acquirer, name, permits);
    }

    @Override
    public DistributedMultiLock multiLock(Collection<String> names, LockMode mode) {
        checkOpen();
        return Handles.multiLock(acquirer, options.ticker(), names, mode);
    }

    @Override
    public VersionedRegister register(String key) {
        checkOpen();
        return Handles.register(acquirer, new StoreRegistrar(this, registers), key);
    }

    /** Polls, woken by the store's notifications where the backend has them ({@link StoreBackend#awaitWatched}). */
    @Override
    public io.holdfast.LockWatch watch(io.holdfast.WatchTarget target, io.holdfast.WatchListener listener) {
        return io.holdfast.spi.PollingFeed.watch(this, target, listener, backend::awaitWatched);
    }

    @Override
    public Admin admin() {
        checkOpen();
        return new StoreAdmin(this, backend.admin());
    }

    @Override
    public Set<Capability> capabilities() {
        return capabilities;
    }

    @Override
    public String sessionId() {
        return backend.sessionId();
    }

    @Override
    public boolean isOpen() {
        return !closed.get();
    }

    /**
     * Ends every wait, releases every lease (unless the client {@linkplain #simulateCrash()
     * crashed}), and closes the backend. Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        SessionExpiredException closedWhileWaiting = new SessionExpiredException("the client was closed");
        for (CompletableFuture<Lease> wait : asyncWaits) {
            wait.completeExceptionally(closedWhileWaiting); // a grant that still arrives is given back
        }
        for (Thread t : waiting) {
            t.interrupt();
        }
        awaitWaitsEnded();
        for (StoreLease lease : new ArrayList<>(leases.values())) {
            lease.markReleased();
            leases.remove(lease.grant());
            if (!crashed) {
                try {
                    backend.release(lease.grant());
                } catch (RuntimeException e) {
                    log.warn(
                            "{}: could not release {} on close; the store lets it expire",
                            backend.provider(),
                            lease.describe(),
                            e);
                }
            }
        }
        if (ownScheduler) {
            scheduler.shutdownNow();
        }
        executor.shutdown();
        try {
            backend.close();
        } catch (RuntimeException e) {
            log.warn("{}: closing the backend failed", backend.provider(), e);
        }
    }

    /**
     * Gives interrupted waits a moment to take themselves off the store's queue while the backend
     * is still open (some drivers finish their current call before they notice an interrupt).
     */
    private void awaitWaitsEnded() {
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

    /**
     * Simulates the death of this client's process, for tests only ({@link CrashSimulation}): all
     * traffic to the store stops at once and nothing is released; the store must find out by
     * itself. Afterwards only {@link #close()} is useful, and it releases nothing either.
     */
    @Override
    public void simulateCrash() {
        crashed = true;
        backend.abandon();
    }

    // ---- acquiring

    private Lease acquire(String name, LockMode mode, int permits, int maxPermits, AcquireOptions options)
            throws InterruptedException {
        LockRequest request = request(name, mode, permits, maxPermits, options);
        return acquire(
                request,
                Deadline.after(this.options.ticker(), options.waitTime()).cancelledWhen(closed::get),
                options.waitTime().isZero());
    }

    private CompletableFuture<Lease> acquireAsync(
            String name, LockMode mode, int permits, int maxPermits, AcquireOptions options) {
        LockRequest request = request(name, mode, permits, maxPermits, options);
        CompletableFuture<Lease> result = new CompletableFuture<>();
        Deadline deadline = Deadline.after(this.options.ticker(), options.waitTime())
                .cancelledWhen(() -> closed.get() || result.isDone());
        boolean once = options.waitTime().isZero();
        Future<?> task;
        try {
            task = executor.submit(() -> {
                try {
                    Lease lease = acquire(request, deadline, once);
                    if (!result.complete(lease)) {
                        giveBack(lease);
                    }
                } catch (Throwable e) {
                    result.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(new SessionExpiredException("the client was closed"));
        }
        asyncWaits.add(result);
        result.whenComplete((lease, error) -> {
            asyncWaits.remove(result);
            if (result.isCancelled() || closed.get()) {
                task.cancel(true);
            }
        });
        if (closed.get()) {
            result.completeExceptionally(new SessionExpiredException("the client was closed"));
        }
        return result;
    }

    private Optional<Lease> tryAcquire(String name, LockMode mode, int permits, int maxPermits) {
        try {
            return Optional.of(acquire(name, mode, permits, maxPermits, AcquireOptions.tryOnce()));
        } catch (LockTimeoutException busy) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UnavailableException("interrupted while trying " + name, e);
        }
    }

    /** The handles ({@link Handles}) checked the options, permits and capabilities already. */
    private LockRequest request(String name, LockMode mode, int permits, int maxPermits, AcquireOptions options) {
        checkOpen();
        Duration leaseTimeout = options.leaseTimeout();
        String owner = backend.sessionId() + ":" + attempts.incrementAndGet();
        Duration expiry = leaseTimeout != null ? leaseTimeout : this.options.sessionTtl();
        return new LockRequest(name, mode, permits, maxPermits, owner, expiry, leaseTimeout != null);
    }

    private Lease acquire(LockRequest request, Deadline deadline, boolean once) throws InterruptedException {
        Thread me = Thread.currentThread();
        waiting.add(me);
        try {
            checkOpen();
            if (Thread.interrupted()) {
                throw new InterruptedException("interrupted before waiting for " + request.describe());
            }
            long startedNanos = options.ticker().nanos();
            Optional<Grant> grant = withRetries(request, deadline, once);
            if (grant.isEmpty()) {
                throw new LockTimeoutException(
                        once ? request.describe() + " is not free" : "timed out waiting for " + request.describe());
            }
            return adopt(grant.get(), startedNanos);
        } catch (InterruptedException e) {
            if (closed.get()) {
                throw new SessionExpiredException("the client was closed while waiting for " + request.describe());
            }
            throw e;
        } finally {
            waiting.remove(me);
        }
    }

    private Optional<Grant> withRetries(LockRequest request, Deadline deadline, boolean once)
            throws InterruptedException {
        int attempt = 0;
        long firstNanos = options.ticker().nanos();
        while (true) {
            attempt++;
            try {
                return once ? backend.tryAcquire(request) : backend.acquire(request, deadline);
            } catch (UnavailableException e) {
                Duration elapsed = Duration.ofNanos(options.ticker().nanos() - firstNanos);
                if (once || closed.get() || crashed || !options.retryPolicy().allowsAnother(attempt, elapsed)) {
                    throw e;
                }
                long pause = options.retryPolicy()
                        .delayBefore(attempt, ThreadLocalRandom.current()::nextDouble)
                        .toNanos();
                if (pause >= deadline.remainingNanos()) {
                    throw e;
                }
                log.debug(
                        "{}: store unavailable while acquiring {}; retrying",
                        backend.provider(),
                        request.describe(),
                        e);
                TimeUnit.NANOSECONDS.sleep(pause);
            }
        }
    }

    /**
     * Turns a grant into a lease, or gives it back if the client closed meanwhile. The watchdog
     * counts the expiry from the start of the acquire, the latest moment known to precede the
     * grant; after a wait longer than a renewal period that start may lie a whole expiry back (the
     * grant came at the end), so the watchdog renews the grant at once and that answer decides
     * ({@link ManagedLease#startRenewals}).
     */
    private Lease adopt(Grant grant, long startedNanos) {
        Duration every = backend.renewEvery(grant);
        StoreLease lease = new StoreLease(this, host, grant, startedNanos);
        leases.put(grant, lease);
        if (closed.get()) {
            leases.remove(grant);
            lease.markReleased();
            if (!crashed) {
                releaseQuietly(grant);
            }
            throw new SessionExpiredException(
                    "the client was closed while waiting for " + grant.request().describe());
        }
        if (every != null) {
            lease.startRenewals(every, grant.request().expiry());
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

    private void releaseQuietly(Grant grant) {
        try {
            backend.release(grant);
        } catch (RuntimeException e) {
            log.debug(
                    "{}: releasing {} failed; it will expire",
                    backend.provider(),
                    grant.request().describe(),
                    e);
        }
    }

    // ---- for leases and handles

    boolean releaseInStore(Grant grant) {
        if (crashed) {
            throw new UnavailableException(backend.provider() + ": the client has crashed (test)");
        }
        int attempt = 0;
        long firstNanos = options.ticker().nanos();
        while (true) {
            attempt++;
            try {
                boolean had = backend.release(grant);
                // "Not held" after an attempt whose outcome we never heard: that attempt released it.
                return had || attempt > 1;
            } catch (UnavailableException e) {
                // A store that just restarted, or a connection being re-established: a release is
                // worth waiting for, since otherwise the lock stays taken until its expiry.
                Duration elapsed = Duration.ofNanos(options.ticker().nanos() - firstNanos);
                if (crashed || !options.retryPolicy().allowsAnother(attempt, elapsed)) {
                    throw e;
                }
                log.debug(
                        "{}: store unavailable while releasing {}; retrying",
                        backend.provider(),
                        grant.request().describe(),
                        e);
                try {
                    Thread.sleep(options.retryPolicy()
                            .delayBefore(attempt, ThreadLocalRandom.current()::nextDouble)
                            .toMillis());
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    boolean renewInStore(Grant grant) {
        return backend.renew(grant);
    }

    boolean crashed() {
        return crashed;
    }

    /** What the leases of this client need from it. */
    private final class Host implements LeaseHost {
        @Override
        public long nanos() {
            return options.ticker().nanos();
        }

        @Override
        public Future<?> scheduleRenewals(Runnable round, long initialDelayMillis, long periodMillis) {
            try {
                return scheduler.scheduleWithFixedDelay(round, initialDelayMillis, periodMillis, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException closing) {
                return null;
            }
        }

        @Override
        public void runCallback(Runnable task) {
            try {
                executor.execute(task);
            } catch (RejectedExecutionException closed) {
                task.run();
            }
        }

        @Override
        public void forget(ManagedLease lease) {
            leases.remove(((StoreLease) lease).grant(), lease);
        }

        @Override
        public void callbackFailed(ManagedLease lease, Throwable error) {
            log.warn("{}: a lost-lock callback of {} threw", backend.provider(), lease, error);
        }

        @Override
        public void renewalFailed(ManagedLease lease, Throwable error) {
            log.debug("{}: renewing {} failed; retrying until its expiry", backend.provider(), lease, error);
        }
    }

    /** How the handles acquire: over the backend, with retries and the client's waits. */
    private final class Engine implements Acquirer {
        @Override
        public String provider() {
            return backend.provider();
        }

        @Override
        public Set<Capability> capabilities() {
            return capabilities;
        }

        @Override
        public Lease acquire(LeaseRequest r, AcquireOptions options) throws InterruptedException {
            return StoreLockClient.this.acquire(r.name(), r.mode(), r.permits(), r.maxPermits(), options);
        }

        @Override
        public Optional<Lease> tryAcquire(LeaseRequest r) {
            return StoreLockClient.this.tryAcquire(r.name(), r.mode(), r.permits(), r.maxPermits());
        }

        @Override
        public CompletableFuture<Lease> acquireAsync(LeaseRequest r, AcquireOptions options) {
            return StoreLockClient.this.acquireAsync(r.name(), r.mode(), r.permits(), r.maxPermits(), options);
        }
    }

    /** Whether the lease is one of this client's. */
    boolean owns(Lease lease) {
        return lease instanceof StoreLease l && l.client() == this;
    }

    /**
     * The grant behind a lease of this client, for a fenced register write. A released or lost
     * lease still names its grant; the store then finds it no longer held.
     */
    Grant grantOf(Lease fence) {
        if (owns(fence)) {
            return ((StoreLease) fence).grant();
        }
        throw io.holdfast.lease.RegisterArguments.foreignFence(fence);
    }

    /** Runs a register call on the client's threads. */
    <T> CompletableFuture<T> async(java.util.function.Supplier<T> call) {
        try {
            checkOpen();
            return CompletableFuture.supplyAsync(call, executor);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(
                    e instanceof RejectedExecutionException ? new SessionExpiredException("the client was closed") : e);
        }
    }

    void checkOpen() {
        if (closed.get()) {
            throw new SessionExpiredException("the client was closed");
        }
    }

    void require(Capability capability, String feature) {
        Handles.require(acquirer, capability, feature);
    }

    private UnsupportedFeatureException unsupported(String feature) {
        return new UnsupportedFeatureException("the " + backend.provider() + " provider does not support " + feature);
    }

    @Override
    public String toString() {
        return "StoreLockClient[" + backend.provider() + ", session " + backend.sessionId()
                + (closed.get() ? ", closed]" : "]");
    }
}
