package io.holdfast.store;

import io.holdfast.Admin;
import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.DistributedLock;
import io.holdfast.DistributedMultiLock;
import io.holdfast.DistributedReadWriteLock;
import io.holdfast.DistributedSemaphore;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockMode;
import io.holdfast.LockTimeoutException;
import io.holdfast.SessionExpiredException;
import io.holdfast.UnavailableException;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.VersionedRegister;
import io.holdfast.Watch;
import io.holdfast.WatchListener;
import io.holdfast.WatchTarget;
import io.holdfast.internal.CrashSimulation;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.internal.PollingFeed;
import io.holdfast.lease.Handles;
import io.holdfast.lease.ManagedLease;
import io.holdfast.recipes.Recipes;
import io.holdfast.spi.AbstractLockClient;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
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
 * <p><b>For maintainers</b>, the engine in pieces: this class is the surface (handles, registers,
 * watches, operator calls), {@link #close()} and {@link #simulateCrash()}; {@code StoreAcquirer}
 * is the acquire path (requests, waits, retries, turning a grant into a lease); {@code
 * StoreReleases} the release path (renew, give back, with retries); {@code StoreLeaseHost} the
 * leases' host (clock, watchdog scheduler, callback threads, the table of held leases, the
 * backend's loss reports); {@code StoreRegistrar} the registers.
 *
 * <p><b>What it does not guarantee</b>: fairness or mutual exclusion beyond what the store gives.
 * Those are the backend's, and {@link #capabilities()} says which. Nor does it renew a session
 * (ADR 0004 is built for the Holdfast server's client and {@code mem:} only): its {@link
 * #addSessionListener session listeners} may be added but are never told, and {@link
 * io.holdfast.ClientOptions#renewSessions()} changes nothing here.
 *
 * <p><b>A failure story.</b> The process that holds {@code orders/42} is cut off from the store:
 * the watchdog's renewals fail with {@link UnavailableException}, and once none was acknowledged
 * for a whole expiry the lease is marked lost and its callbacks run, while the store lets the
 * grant lapse and gives the lock, with a larger token, to another client.
 */
public final class StoreLockClient extends AbstractLockClient implements CrashSimulation {
    private static final Logger log = LoggerFactory.getLogger(StoreLockClient.class);
    private static final AtomicInteger CLIENTS = new AtomicInteger();

    private final StoreBackend backend;
    private final ClientOptions options;
    private final Set<Capability> capabilities;
    private final StoreRegisters registers;
    private final io.holdfast.Keys keys;
    private final ExecutorService executor;
    private final StoreLeaseHost host;
    private final StoreReleases releases;
    private final StoreAcquirer acquirer;
    private final Recipes recipes;
    private final AtomicBoolean closed = new AtomicBoolean();
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
        try {
            Handles.requireOptions(backend.provider(), capabilities, options);
        } catch (RuntimeException refused) {
            backend.close();
            throw refused;
        }
        this.registers = capabilities.contains(Capability.REGISTERS) ? backend.registers() : null;
        this.keys = capabilities.contains(Capability.KEYS) ? backend.keys() : null;
        if (capabilities.contains(Capability.REGISTERS) && registers == null) {
            backend.close();
            throw new IllegalStateException(
                    "the " + backend.provider() + " backend declares registers but has none: a bug in the provider");
        }
        String threads = "holdfast-" + backend.provider() + "-" + CLIENTS.incrementAndGet();
        this.executor = Executors.newCachedThreadPool(DaemonThreads.numbered(threads + "-worker"));
        this.host = new StoreLeaseHost(backend.provider(), threads, options, executor, backend::validUntilNanos);
        this.releases = new StoreReleases(backend, options, () -> crashed);
        this.acquirer = new StoreAcquirer(this, backend, options, executor, host, releases);
        this.recipes = new Recipes(this, options.ticker(), host.scheduler(), executor);
        backend.start(host);
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
        return Handles.register(acquirer, new StoreRegistrar(this, registers, executor), key);
    }

    @Override
    public io.holdfast.Keys keys() {
        checkOpen();
        return Handles.keys(acquirer, new WatchedKeys(keys, this));
    }

    @Override
    protected Recipes recipes() {
        return recipes;
    }

    /** Polls, woken by the store's notifications where the backend has them ({@link StoreBackend#awaitWatched}). */
    @Override
    public Watch watch(WatchTarget target, WatchListener listener) {
        if (target != null && target.kind() == WatchTarget.Kind.KEYS && keys != null && listener != null) {
            // The store's own watch of keys where it has one (its causes and order); else the polling feed.
            try {
                return keys.watch(target.name(), listener);
            } catch (io.holdfast.UnsupportedFeatureException pollInstead) {
                // falls through
            }
        }
        return PollingFeed.watch(
                this,
                target,
                listener,
                backend::awaitWatched,
                options.ticker(),
                DaemonThreads.threadPerTask("holdfast-watch " + target),
                host.scheduler());
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
        acquirer.endWaits();
        for (StoreLease lease : host.held()) {
            lease.markReleased();
            host.remove(lease.grant());
            if (!crashed) {
                releases.releaseOnClose(lease);
            }
        }
        host.shutdown();
        executor.shutdown();
        try {
            backend.close();
        } catch (RuntimeException e) {
            log.warn("{}: closing the backend failed", backend.provider(), e);
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

    // ---- for the pieces of the engine

    /** @throws SessionExpiredException once the client is closed */
    void checkOpen() {
        if (closed.get()) {
            throw new SessionExpiredException("the client was closed");
        }
    }

    /** @throws UnsupportedFeatureException naming the provider, without {@code capability} */
    void require(Capability capability, String feature) {
        Handles.require(acquirer, capability, feature);
    }

    @Override
    public String toString() {
        return "StoreLockClient[" + backend.provider() + ", session " + backend.sessionId()
                + (closed.get() ? ", closed]" : "]");
    }
}
