package io.holdfast.lease;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A host for the tests: a clock that moves only when told, a timer that runs what is due when the
 * clock moves (and, like a ScheduledExecutorService, stops a repeating task for good if it throws),
 * and callbacks run inline.
 */
final class ManualHost implements LeaseHost {
    private long nowNanos = 1_000_000_000L;
    private final List<Timer> timers = new ArrayList<>();
    final List<ManagedLease> forgotten = new ArrayList<>();
    final List<Throwable> callbackFailures = new ArrayList<>();
    final List<Throwable> renewalFailures = new ArrayList<>();
    final List<Throwable> timerDeaths = new ArrayList<>();

    private final class Timer {
        final Runnable task;
        final long periodNanos;
        final CompletableFuture<Void> handle = new CompletableFuture<>();
        long dueNanos;

        Timer(Runnable task, long dueNanos, long periodNanos) {
            this.task = task;
            this.dueNanos = dueNanos;
            this.periodNanos = periodNanos;
        }
    }

    @Override
    public long nanos() {
        return nowNanos;
    }

    /** Moves the clock forward, running every timer as it comes due. */
    void advanceMillis(long millis) {
        long target = nowNanos + TimeUnit.MILLISECONDS.toNanos(millis);
        while (true) {
            Timer next = null;
            for (Timer t : timers) {
                if (!t.handle.isDone() && t.dueNanos <= target && (next == null || t.dueNanos < next.dueNanos)) {
                    next = t;
                }
            }
            if (next == null) {
                break;
            }
            nowNanos = Math.max(nowNanos, next.dueNanos);
            try {
                next.task.run();
                next.dueNanos = nowNanos + next.periodNanos;
            } catch (RuntimeException e) {
                timerDeaths.add(e);
                next.handle.cancel(false);
            }
        }
        nowNanos = target;
    }

    /**
     * Moves the clock without running any timer: the watchdog's thread is late (a loaded machine,
     * a paused process).
     */
    void advanceMillisWithTimersLate(long millis) {
        nowNanos += TimeUnit.MILLISECONDS.toNanos(millis);
    }

    /** What {@link #validUntilNanos()} answers: the engine's own limit (a session's TTL). */
    long validUntilNanos = Long.MAX_VALUE;

    @Override
    public long validUntilNanos() {
        return validUntilNanos;
    }

    long activeTimers() {
        return timers.stream().filter(t -> !t.handle.isDone()).count();
    }

    @Override
    public Future<?> scheduleRenewals(Runnable round, long initialDelayMillis, long periodMillis) {
        Timer t = new Timer(
                round,
                nowNanos + TimeUnit.MILLISECONDS.toNanos(initialDelayMillis),
                TimeUnit.MILLISECONDS.toNanos(periodMillis));
        timers.add(t);
        return t.handle;
    }

    @Override
    public void runCallback(Runnable task) {
        task.run();
    }

    @Override
    public void forget(ManagedLease lease) {
        forgotten.add(lease);
    }

    @Override
    public void callbackFailed(ManagedLease lease, Throwable error) {
        callbackFailures.add(error);
    }

    @Override
    public void renewalFailed(ManagedLease lease, Throwable error) {
        renewalFailures.add(error);
    }
}
