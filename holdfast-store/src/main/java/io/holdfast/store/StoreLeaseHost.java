package io.holdfast.store;

import io.holdfast.ClientOptions;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.lease.LeaseHost;
import io.holdfast.lease.ManagedLease;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the leases of one {@link StoreLockClient} need from it ({@link LeaseHost}): the client's
 * clock, the watchdog's scheduler, the threads that run loss callbacks, and the table of leases
 * held, by grant. It is also where the backend reports losses ({@link LossSink}), since it is the
 * table that knows which lease a grant belongs to.
 *
 * <p><b>What it guarantees.</b> Renewals run on the scheduler of the client's options when one is
 * given (shared: never shut down here), else on two daemon threads of this client's own, stopped
 * by {@link #shutdown}. Once the client's executor is shut down a loss callback runs on the thread
 * that reports the loss, so none is dropped. A loss reported for a grant no lease holds any more
 * (released meanwhile) is ignored.
 *
 * <p><b>What it does not.</b> It renews nothing itself: {@link ManagedLease} decides when, and
 * {@link StoreReleases} talks to the store.
 *
 * <p><b>A failure story.</b> A ZooKeeper session expires: the backend calls {@link #allLost}, every
 * lease still in the table is marked lost and its callbacks run on the client's threads, while a
 * lease released a moment before is no longer in the table and stays released.
 */
final class StoreLeaseHost implements LeaseHost, LossSink {
    /** The client's logger: its messages keep the category they always had. */
    private static final Logger log = LoggerFactory.getLogger(StoreLockClient.class);

    private final String provider;
    private final ClientOptions options;
    private final ExecutorService callbacks;
    private final ScheduledExecutorService scheduler;
    private final boolean ownScheduler;
    private final Map<Grant, StoreLease> leases = new ConcurrentHashMap<>();
    /** The store's own session's limit ({@link StoreBackend#validUntilNanos()}). */
    private final java.util.function.LongSupplier sessionValidUntil;

    /**
     * @param threads the prefix of the names of the watchdog's own threads, if it needs any
     * @param callbacks the client's executor, which runs loss callbacks
     */
    StoreLeaseHost(
            String provider,
            String threads,
            ClientOptions options,
            ExecutorService callbacks,
            java.util.function.LongSupplier sessionValidUntil) {
        this.provider = provider;
        this.sessionValidUntil = sessionValidUntil;
        this.options = options;
        this.callbacks = callbacks;
        this.ownScheduler = options.scheduler().isEmpty();
        this.scheduler = options.scheduler()
                .orElseGet(() -> Executors.newScheduledThreadPool(2, DaemonThreads.numbered(threads + "-watchdog")));
    }

    /** Enters a lease in the table, under its grant. */
    void add(StoreLease lease) {
        leases.put(lease.grant(), lease);
    }

    /** Takes the lease of this grant out of the table. */
    void remove(Grant grant) {
        leases.remove(grant);
    }

    /** The leases in the table now. */
    List<StoreLease> held() {
        return new ArrayList<>(leases.values());
    }

    /** Where the client's timers run: the watchdog's, and the recipes' timeouts. */
    ScheduledExecutorService scheduler() {
        return scheduler;
    }

    /** Stops the watchdog's own threads, if it has any. */
    void shutdown() {
        if (ownScheduler) {
            scheduler.shutdownNow();
        }
    }

    // ---- LossSink

    @Override
    public void lost(Grant grant, String why) {
        StoreLease lease = leases.get(grant);
        if (lease != null) {
            lease.markLost(why);
        }
    }

    @Override
    public void allLost(String why) {
        for (StoreLease lease : held()) {
            lease.markLost(why);
        }
    }

    // ---- LeaseHost

    @Override
    public long nanos() {
        return options.ticker().nanos();
    }

    @Override
    public long validUntilNanos() {
        return sessionValidUntil.getAsLong();
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
            callbacks.execute(task);
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
        log.warn("{}: a lost-lock callback of {} threw", provider, lease, error);
    }

    @Override
    public void renewalFailed(ManagedLease lease, Throwable error) {
        log.debug("{}: renewing {} failed; retrying until its expiry", provider, lease, error);
    }
}
