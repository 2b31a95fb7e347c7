package io.holdfast.lease;

import java.util.concurrent.Future;
import org.slf4j.LoggerFactory;

/**
 * What a {@link ManagedLease} needs from the engine that granted it: a clock, a timer, a thread
 * for callbacks and a table to leave. One host serves every lease of one client.
 *
 * <p><b>What the lease guarantees a host</b>: {@link #runCallback} is only ever handed tasks that
 * catch their own failures (a throwing loss listener is caught inside the lease and reported to
 * {@link #callbackFailed}); a renewal round never lets an exception escape into the timer, so a
 * host's scheduler never silently stops a watchdog; {@link #forget} is called exactly when the lease
 * stops being held (released or lost).
 *
 * <p><b>What a host must guarantee</b>: {@link #nanos()} is monotonic and is the same clock the
 * engine reads when it measures an acquire; {@link #runCallback} never runs the task on a thread
 * the engine needs to make progress (an event or I/O thread), and runs it inline rather than drop
 * it once the host is closed.
 *
 * <p><b>Failure story.</b> The client is closing while a lease's watchdog is due: {@link
 * #scheduleRenewals} returns {@code null} because the timer is shut down; the lease then simply
 * has no watchdog, and the engine's close marks it released ({@link ManagedLease#markReleased()}).
 */
public interface LeaseHost {
    /** The engine's monotonic clock, in nanoseconds ({@link io.holdfast.Ticker}). */
    long nanos();

    /**
     * Until when, on {@link #nanos()}, the engine itself can vouch for its grants, whatever their
     * own renewals say: for an engine whose grants belong to a session, the session's TTL counted
     * from the sending of its last acknowledged heartbeat; past it, the backend may have ended the
     * session and given its grants to others. {@link ManagedLease#isValid()} is false from then
     * on. The default, {@link Long#MAX_VALUE}, is for engines whose grants live only by their own
     * renewals. Called often, under the lease's lock: it must be cheap and take no lock of its own
     * that an engine thread could hold while calling into a lease.
     */
    default long validUntilNanos() {
        return Long.MAX_VALUE;
    }

    /**
     * Runs {@code round} after {@code initialDelayMillis}, then again {@code periodMillis} after
     * each run ends (fixed delay), until the returned future is cancelled.
     *
     * @return the schedule, to cancel; {@code null} if the host is closed and schedules nothing
     */
    Future<?> scheduleRenewals(Runnable round, long initialDelayMillis, long periodMillis);

    /**
     * Runs a loss listener (already wrapped so that it cannot throw) on a client thread, never on
     * the caller's; inline if the host is closed.
     */
    void runCallback(Runnable task);

    /** The lease is no longer held (released or lost): drop it from the engine's tables. */
    void forget(ManagedLease lease);

    /**
     * A loss listener threw. It was caught; the other listeners and the watchdog go on. The default
     * logs a warning through SLF4J.
     */
    default void callbackFailed(ManagedLease lease, Throwable error) {
        LoggerFactory.getLogger(LeaseHost.class).warn("a lost-lock callback of {} threw", lease, error);
    }

    /**
     * A renewal's outcome is unknown (the backend could not be reached, or the renewal hook threw).
     * The watchdog tries again next period, until the expiry rule declares the lease lost. The
     * default logs at debug level through SLF4J.
     *
     * @param error the cause, or {@code null} if the engine gave none
     */
    default void renewalFailed(ManagedLease lease, Throwable error) {
        LoggerFactory.getLogger(LeaseHost.class).debug("renewing {} failed; retrying until its expiry", lease, error);
    }
}
