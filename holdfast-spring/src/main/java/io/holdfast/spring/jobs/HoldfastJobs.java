package io.holdfast.spring.jobs;

import io.holdfast.AcquireOptions;
import io.holdfast.HoldfastException;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockTimeoutException;
import io.holdfast.NotOwnerException;
import io.holdfast.spring.LockObserver;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * "Run this at most once at a time across the cluster", without annotations:
 *
 * <pre>{@code
 * boolean ran = HoldfastJobs.runExclusively(client, "jobs/nightly-report", () -> report.write());
 * }</pre>
 *
 * The same semantics as {@link ClusterExclusive} (which uses this class): take the lock or skip; the run's
 * fencing token is {@link #currentToken()} on the running thread; a lease lost during the run is logged
 * and cannot stop the run.
 */
public final class HoldfastJobs {
    private static final Logger log = LoggerFactory.getLogger(HoldfastJobs.class);
    private static final ThreadLocal<Long> TOKEN = new ThreadLocal<>();

    private HoldfastJobs() {}

    /** Tries the lock once; runs {@code job} if it was free. Returns whether it ran. */
    public static boolean runExclusively(LockClient client, String lockName, Runnable job) {
        return runExclusively(client, lockName, Duration.ZERO, job);
    }

    /**
     * Waits up to {@code wait} for the lock; runs {@code job} if it came. Returns whether it ran.
     *
     * @throws HoldfastException if the service fails the acquisition (the job did not run)
     * @throws RuntimeException whatever {@code job} throws (the lock is given back first)
     */
    public static boolean runExclusively(LockClient client, String lockName, Duration wait, Runnable job) {
        return runExclusively(client, lockName, wait, LockObserver.NONE, job);
    }

    /**
     * As {@link #runExclusively(LockClient, String, Duration, Runnable)}, reporting the acquisition, the run or
     * skip, and a loss to {@code observer}: pass the application's {@link io.holdfast.spring.HoldfastMetrics}
     * bean to have the run measured like a {@link ClusterExclusive} job (tag {@code job} = {@code lockName}).
     * The overloads without an observer measure nothing.
     */
    public static boolean runExclusively(
            LockClient client, String lockName, Duration wait, LockObserver observer, Runnable job) {
        Objects.requireNonNull(job, "job");
        Objects.requireNonNull(observer, "observer");
        try {
            return run(client, lockName, AcquireOptions.waitUpTo(wait), observer, lockName, () -> {
                        job.run();
                        return null;
                    })
                    .isPresent();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The fencing token of the exclusive run on this thread, if one is running. */
    public static OptionalLong currentToken() {
        Long t = TOKEN.get();
        return t == null ? OptionalLong.empty() : OptionalLong.of(t);
    }

    /**
     * The mechanism: empty when the lock was busy (the job did not run), else the job's result (wrapped, so a
     * null result still counts as ran).
     */
    static <T> Optional<Holder<T>> run(
            LockClient client,
            String lockName,
            AcquireOptions options,
            LockObserver observer,
            String job,
            Callable<T> body)
            throws Exception {
        Objects.requireNonNull(client, "client");
        long asked = System.nanoTime();
        Lease lease;
        try {
            if (options.waitTime().isZero() && options.leaseTimeout() == null) {
                lease = client.lock(lockName).tryAcquire().orElse(null);
            } else {
                lease = client.lock(lockName).acquire(options);
            }
        } catch (LockTimeoutException e) {
            lease = null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            observer.acquisition(LockObserver.Source.JOB, LockObserver.Outcome.ERROR, System.nanoTime() - asked);
            throw e;
        } catch (RuntimeException e) {
            observer.acquisition(LockObserver.Source.JOB, LockObserver.Outcome.ERROR, System.nanoTime() - asked);
            throw e;
        }
        long took = System.nanoTime() - asked;
        if (lease == null) {
            observer.acquisition(LockObserver.Source.JOB, LockObserver.Outcome.BUSY, took);
            observer.jobRun(job, false);
            log.debug("job {} skipped: {} is held elsewhere", job, lockName);
            return Optional.empty();
        }
        observer.acquisition(LockObserver.Source.JOB, LockObserver.Outcome.ACQUIRED, took);
        observer.jobRun(job, true);
        Lease held = lease;
        held.onLost(e -> {
            observer.lost(LockObserver.Source.JOB);
            log.warn(
                    "job {} lost {} (token {}) while running: another node may run it now; writes must carry the"
                            + " fencing token: {}",
                    job,
                    lockName,
                    held.fencingToken(),
                    e.getMessage());
        });
        Long outer = TOKEN.get();
        TOKEN.set(held.fencingToken());
        try {
            return Optional.of(new Holder<>(body.call()));
        } finally {
            if (outer == null) {
                TOKEN.remove();
            } else {
                TOKEN.set(outer);
            }
            try {
                held.release();
            } catch (HoldfastException | NotOwnerException e) {
                log.warn("job {}: releasing {} failed: {}", job, lockName, e.getMessage());
            } finally {
                observer.released(LockObserver.Source.JOB);
            }
        }
    }

    /** A job's result, which may be null. */
    record Holder<T>(T value) {}
}
