package io.holdfast.spring.jobs;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Runs the method at most once at a time across every application node that shares the Holdfast service:
 * typically on a {@code @Scheduled} method, which every node fires. Each call tries to take the lock {@code
 * holdfast.jobs.prefix + value} (waiting up to {@link #waitFor}); the node that gets it runs the method and
 * gives the lock back when it returns or throws; the others skip the call (it returns {@code null}) and count
 * it in {@code holdfast.job.runs{result=skipped}}.
 *
 * <p><b>Guarantees.</b> While the service is healthy, no two runs overlap whose leases were valid. Inside the
 * run, {@link HoldfastJobs#currentToken()} gives the lease's fencing token, larger than any earlier run's:
 * pass it to what the job writes.
 *
 * <p><b>Not guaranteed.</b> That a run finishes before another starts if its node stalls: a run cannot be
 * stopped safely from outside, so when its lease is lost (a GC pause past the session TTL, a network
 * partition) the method goes on while another node may start the next run. The loss is logged and counted
 * ({@code holdfast.lock.lost}). Only the fencing token, checked by the resource the job writes to, keeps
 * such a late write out. Nor does it schedule: a run that no node was free to take is not made up later.
 *
 * <p><b>Failure story.</b> Node A runs {@code nightly-report} with token 41 and freezes for a minute. Its
 * session expires; at the next tick node B takes the lock with token 57 and runs. A resumes and writes its
 * report with token 41; the report store, which has seen 57, refuses it.
 *
 * <p>The method must return {@code void} or an object (skipped calls return {@code null}). Enabled by the
 * auto-configuration; the bean must be a Spring bean (proxied), and self-invocation is not intercepted.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface ClusterExclusive {
    /** The job's name: its lock is {@code holdfast.jobs.prefix} followed by this. */
    String value();

    /** How long to wait for the lock (ISO-8601, {@code PT30S}); the default {@code PT0S} tries once. */
    String waitFor() default "PT0S";

    /**
     * A lease timeout for the run (ISO-8601), renewed by the client while the run goes on; empty to hold
     * for as long as the session lives.
     */
    String leaseTimeout() default "";
}
