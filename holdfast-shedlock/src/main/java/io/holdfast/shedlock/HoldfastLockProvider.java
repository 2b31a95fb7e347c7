package io.holdfast.shedlock;

import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.Names;
import io.holdfast.internal.DaemonThreads;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import net.javacrumbs.shedlock.core.ClockProvider;
import net.javacrumbs.shedlock.core.ExtensibleLockProvider;
import net.javacrumbs.shedlock.core.LockConfiguration;
import net.javacrumbs.shedlock.core.SimpleLock;

/**
 * A ShedLock {@link ExtensibleLockProvider} over any Holdfast backend: a ShedLock user swaps their
 * provider bean for this one and keeps every {@code @SchedulerLock} as it is.
 *
 * <p><b>Guarantees.</b> A job's lock is a Holdfast lock named {@code prefix + name} (default prefix
 * {@code shedlock/}), taken without waiting: if another node holds it, this node skips the run, as
 * with every ShedLock provider. While the job runs, its fencing token is {@link #currentToken()}
 * on the job's thread, to hand to whatever the job writes. While this provider holds a job's lock
 * (until it is released, and as long as its lease is valid), it answers a second attempt at once,
 * without asking the backend: no lock.
 *
 * <ul>
 *   <li>{@code lockAtMostFor} caps the hold: at {@code lockAtMostUntil} a timer of this provider
 *       releases the lock, even if the job still runs. Another node can then take it (with a larger
 *       fencing token) once the release has committed, one round trip later.
 *   <li>{@code lockAtLeastFor} is kept: a job that ends early keeps the lock until {@code
 *       lockAtLeastUntil}, released then by the same timer. A second attempt in this provider
 *       after that time releases it first if the timer has not yet (a late timer, or its release
 *       still on its way), then asks the backend: the lock is not kept past its time for it.
 *   <li>{@link SimpleLock#extend} moves both times from now (ShedLock's {@code LockExtender} and
 *       {@code KeepAliveLockProvider} use it): an empty answer if {@code lockAtMostUntil} has passed or
 *       the lock was lost; {@link IllegalStateException} if the lock was unlocked or extended
 *       already, whose new handle is the one to use.
 * </ul>
 *
 * <p><b>A hung job.</b> When a job outlives {@code lockAtMostFor}, its lock is released under it
 * and the next run, on any node, gets a larger token; the hung job is not stopped, and {@link
 * #currentToken()} still answers its own, older token. Its writes to a store that checks tokens
 * are refused once the newer run has written there; writes to a store that does not check tokens
 * can interleave with the newer run's, as with every ShedLock provider. Its later {@code unlock()}
 * does nothing.
 *
 * <p><b>What it does not cap.</b> The timers are this process's: if the whole process stalls or
 * loses the service, the lock is freed when its session ends (the session TTL), not at {@code
 * lockAtMostUntil}. The times are ShedLock's ({@link ClockProvider}), read once per lock or
 * extension and turned into timers.
 *
 * <p><b>Failure story.</b> The node running the nightly report loses its network for a minute. Its
 * session expires after its TTL, the lock goes to another node, which runs the report; the first
 * node's job, if it is still writing, is refused by any store that checks its fencing token
 * against the newer one.
 *
 * <p>Give it a client opened with {@link io.holdfast.ClientOptions#renewSessions()
 * renewSessions(false)} (ADR 0004; the Spring starter's client is): a job's lock lost with its
 * session is then final for the whole client, which a scheduler that skips runs on errors expects,
 * rather than a client that goes on under a new session.
 */
public final class HoldfastLockProvider implements ExtensibleLockProvider, AutoCloseable {
    /** The prefix of lock names unless one is given. */
    public static final String DEFAULT_PREFIX = "shedlock/";

    private static final ThreadLocal<Lease> CURRENT = new ThreadLocal<>();

    private final LockClient client;
    private final String prefix;
    /** The holds of this provider not released yet, by lock name. */
    private final Map<String, HeldLock> held = new ConcurrentHashMap<>();

    private final ScheduledExecutorService timers =
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
     * The fencing token of the ShedLock lock taken by the job running on this thread; empty outside
     * a locked job. A job that outlived its {@code lockAtMostFor} still gets its own token.
     */
    public static Optional<Long> currentToken() {
        Lease lease = CURRENT.get();
        return lease == null ? Optional.empty() : Optional.of(lease.fencingToken());
    }

    /**
     * Takes the job's lock if it is free, until {@code lockAtMostUntil} at most.
     *
     * @throws io.holdfast.InvalidArgumentException if {@code prefix + name} is not a valid lock name
     * @throws io.holdfast.UnavailableException if the backend cannot be reached (ShedLock then
     *     skips the run and logs it)
     */
    @Override
    public Optional<SimpleLock> lock(LockConfiguration configuration) {
        String name = prefix + configuration.getName();
        HeldLock mine = held.get(name);
        if (mine != null && mine.keptPastItsTime()) {
            // Unlocked and its lockAtLeastUntil has passed: the release its timer is due to make
            // (the timer may be late, or its release still on its way) is made, or awaited, here.
            mine.releaseNow();
            mine = null;
        }
        if (mine != null && mine.lease.isValid()) {
            return Optional.empty(); // this provider holds it: the backend would answer busy as well
        }
        Optional<Lease> lease = client.lock(name).tryAcquire();
        lease.ifPresent(CURRENT::set);
        return lease.map(l -> new HeldLock(l, configuration.getLockAtMostUntil(), configuration.getLockAtLeastUntil()));
    }

    /** Stops the timers; locks still kept for their {@code lockAtLeastFor}, or held, are released now. */
    @Override
    public void close() {
        for (Runnable pending : timers.shutdownNow()) {
            pending.run();
        }
    }

    private static Duration untilNow(Instant time) {
        return Duration.between(ClockProvider.now(), time);
    }

    /**
     * One hold of a job's lock: open until unlocked or extended (a handle is used once), and
     * released once, by whichever comes first of its timer, its unlock with no {@code
     * lockAtLeastFor} left, or an extension found too late; an extension hands the lease on instead.
     */
    private final class HeldLock implements SimpleLock {
        private final Lease lease;
        private final Instant atMostUntil;
        private final Instant atLeastUntil;
        private boolean open = true; // guarded by this
        private boolean unlocked; // guarded by this: by unlock(), not by an extension
        private boolean handedOff; // guarded by this: released, or passed on to an extension
        private Future<?> timer; // guarded by this
        /** Completes once the release of this hold has been made (or has failed). */
        private final CompletableFuture<Void> released = new CompletableFuture<>();

        HeldLock(Lease lease, Instant atMostUntil, Instant atLeastUntil) {
            this.lease = lease;
            this.atMostUntil = atMostUntil;
            this.atLeastUntil = atLeastUntil;
            held.put(lease.name(), this);
            synchronized (this) {
                timer = releaseAfter(untilNow(atMostUntil));
            }
        }

        @Override
        public void unlock() {
            if (CURRENT.get() == lease) {
                CURRENT.remove();
            }
            synchronized (this) {
                use("unlocked");
                unlocked = true;
                timer.cancel(false);
                timer = releaseAfter(untilNow(atLeastUntil));
            }
        }

        @Override
        public Optional<SimpleLock> extend(Duration lockAtMostFor, Duration lockAtLeastFor) {
            synchronized (this) {
                use("extended");
                if (!handedOff && lease.isValid() && untilNow(atMostUntil).compareTo(Duration.ZERO) > 0) {
                    handedOff = true;
                    timer.cancel(false);
                    Instant now = ClockProvider.now();
                    return Optional.of(new HeldLock(lease, now.plus(lockAtMostFor), now.plus(lockAtLeastFor)));
                }
            }
            releaseOnce(); // its lockAtMostUntil passed: released now if its timer has not done it yet
            return Optional.empty();
        }

        /** Refuses a second unlock or extension: ShedLock's contract for a handle already used. */
        private void use(String how) {
            if (!open) {
                throw new IllegalStateException("this ShedLock lock of " + lease.name()
                        + " was unlocked or extended already (now " + how
                        + "); after extend(), use the lock that it returned");
            }
            open = false;
        }

        /** Releases the lease now if {@code left} is not positive (or the timers are closed), else later. */
        private Future<?> releaseAfter(Duration left) {
            if (left.compareTo(Duration.ZERO) <= 0 || timers.isShutdown()) {
                releaseOnce();
                return CompletableFuture.completedFuture(null);
            }
            return timers.schedule(this::releaseOnce, left.toMillis(), TimeUnit.MILLISECONDS);
        }

        /** Whether it was unlocked and its {@code lockAtLeastUntil} has passed by ShedLock's clock. */
        synchronized boolean keptPastItsTime() {
            return unlocked && untilNow(atLeastUntil).compareTo(Duration.ZERO) <= 0;
        }

        /** Releases it now, or waits for the release its timer is making. */
        void releaseNow() {
            synchronized (this) {
                timer.cancel(false);
            }
            releaseOnce();
            released.join();
        }

        private void releaseOnce() {
            synchronized (this) {
                if (handedOff) {
                    return;
                }
                handedOff = true;
            }
            try {
                lease.release();
            } catch (RuntimeException e) {
                // Lost already (its session ended), or the backend is unreachable: the client goes on
                // sending the release, and the session's end frees the lock in any case.
            } finally {
                held.remove(lease.name(), this);
                released.complete(null);
            }
        }
    }
}
