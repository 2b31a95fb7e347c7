package io.holdfast.shedlock;

import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.Names;
import io.holdfast.internal.DaemonThreads;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import net.javacrumbs.shedlock.core.LockConfiguration;
import net.javacrumbs.shedlock.core.LockProvider;
import net.javacrumbs.shedlock.core.SimpleLock;

/**
 * A ShedLock {@link LockProvider} over any Holdfast backend: a ShedLock user swaps their provider
 * bean for this one and keeps every {@code @SchedulerLock} as it is.
 *
 * <p><b>Guarantees.</b> A job's lock is a Holdfast lock named {@code prefix + name} (default prefix
 * {@code shedlock/}), taken without waiting: if another node holds it, this node skips the run, as
 * with every ShedLock provider. While the job runs, its fencing token is {@link #currentToken()}
 * on the job's thread, to hand to whatever the job writes. {@code lockAtLeastFor} is honoured: a
 * job that ends early keeps the lock until then (released by a timer of this provider).
 *
 * <p><b>Not the same as other providers: {@code lockAtMostFor}.</b> Other providers write an
 * expiry time and let anyone take the lock after it, even while the first job still runs. Holdfast
 * does not take a lock from a live holder: it takes it back when the holder's session ends (the
 * process died, or lost the service for longer than its session TTL), and a holder that lost its
 * lock is fenced out by its token. A job that hangs forever therefore keeps its lock until its
 * process is stopped; {@code lockAtMostFor} is not used.
 *
 * <p><b>Failure story.</b> The node running the nightly report loses its network for a minute. Its
 * session expires after its TTL, the lock goes to another node, which runs the report; the first
 * node's job, if it is still writing, is refused by any store that checks its fencing token
 * against the newer one.
 */
public final class HoldfastLockProvider implements LockProvider, AutoCloseable {
    /** The prefix of lock names unless one is given. */
    public static final String DEFAULT_PREFIX = "shedlock/";

    private static final ThreadLocal<Lease> CURRENT = new ThreadLocal<>();

    private final LockClient client;
    private final String prefix;
    private final ScheduledExecutorService releaseLater =
            Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("holdfast-shedlock-release"));

    /** Locks named {@code shedlock/JOB}. */
    public HoldfastLockProvider(LockClient client) {
        this(client, DEFAULT_PREFIX);
    }

    /**
     * Locks named {@code prefix + JOB}.
     *
     * @throws io.holdfast.InvalidArgumentException if the prefix cannot begin a lock name
     */
    public HoldfastLockProvider(LockClient client, String prefix) {
        this.client = Objects.requireNonNull(client, "client");
        this.prefix = Objects.requireNonNull(prefix, "prefix");
        if (!prefix.isEmpty()) {
            Names.check(prefix + "x");
        }
    }

    /**
     * The fencing token of the ShedLock lock held by the job running on this thread; empty outside
     * a locked job.
     */
    public static Optional<Long> currentToken() {
        Lease lease = CURRENT.get();
        return lease == null ? Optional.empty() : Optional.of(lease.fencingToken());
    }

    /**
     * Takes the job's lock if it is free.
     *
     * @throws io.holdfast.InvalidArgumentException if {@code prefix + name} is not a valid lock name
     * @throws io.holdfast.UnavailableException if the backend cannot be reached (ShedLock then
     *     skips the run and logs it)
     */
    @Override
    public Optional<SimpleLock> lock(LockConfiguration configuration) {
        String name = prefix + configuration.getName();
        Optional<Lease> lease = client.lock(name).tryAcquire();
        lease.ifPresent(CURRENT::set);
        return lease.map(l -> new HeldLock(l, configuration.getLockAtLeastUntil()));
    }

    /** Releases the timers; locks still kept for their {@code lockAtLeastFor} are released now. */
    @Override
    public void close() {
        for (Runnable pending : releaseLater.shutdownNow()) {
            pending.run();
        }
    }

    private final class HeldLock implements SimpleLock {
        private final Lease lease;
        private final Instant atLeastUntil;

        HeldLock(Lease lease, Instant atLeastUntil) {
            this.lease = lease;
            this.atLeastUntil = atLeastUntil;
        }

        @Override
        public void unlock() {
            if (CURRENT.get() == lease) {
                CURRENT.remove();
            }
            // The one wall-clock reading: how much of lockAtLeastFor is left, then a monotonic timer.
            Duration left = Duration.between(Instant.now(), atLeastUntil);
            if (left.isNegative() || left.isZero() || releaseLater.isShutdown()) {
                release();
            } else {
                releaseLater.schedule(this::release, left.toMillis(), TimeUnit.MILLISECONDS);
            }
        }

        private void release() {
            try {
                lease.release();
            } catch (RuntimeException e) {
                // Lost already (its session ended): nothing to give back.
            }
        }
    }
}
