package io.holdfast.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.Executors;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.RunnableScheduledFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A {@link ScheduledExecutorService} in virtual time: nothing runs until the test calls {@link
 * #advance} (or {@link #runDue}), and then every task that falls due runs on the test's thread, in
 * the order of its due time, with the {@link FakeTicker} set to that time. Give it and its ticker
 * to {@link io.holdfast.ClientOptions.Builder#scheduler} and {@link
 * io.holdfast.ClientOptions.Builder#ticker}, and a test of heartbeats, watchdogs or retries takes
 * milliseconds instead of a TTL of real time, with no race against the timer thread.
 *
 * <p><b>Guarantees.</b> Tasks due at the same time run in the order they were scheduled. A task
 * scheduled by a running task runs in the same {@link #advance} if it falls due within it. A
 * periodic task runs once per period (fixed rate) or a delay after its last run (fixed delay), as
 * the JDK's executors do, and stops after one of its runs throws. Tasks may be scheduled from any
 * thread.
 *
 * <p><b>Does not</b> run anything on its own: a test that waits for a timer without advancing
 * waits forever. Code that measures time with {@code System.nanoTime()} or uses {@code
 * CompletableFuture.orTimeout} is outside it.
 */
public final class ManualScheduler extends AbstractExecutorService implements ScheduledExecutorService {
    private final FakeTicker ticker;
    private final PriorityQueue<Task<?>> queue = new PriorityQueue<>();
    private long sequence;
    private boolean shutdown;

    public ManualScheduler(FakeTicker ticker) {
        this.ticker = Objects.requireNonNull(ticker, "ticker");
    }

    public FakeTicker ticker() {
        return ticker;
    }

    /**
     * Moves time forward by {@code step}, running every task that falls due on the way.
     *
     * @return how many task runs there were
     */
    public int advance(Duration step) {
        if (step.isNegative()) {
            throw new IllegalArgumentException("time never goes back: " + step);
        }
        long target = ticker.nanos() + step.toNanos();
        int runs = 0;
        while (true) {
            Task<?> next;
            synchronized (this) {
                next = queue.peek();
                if (next == null || next.due > target) {
                    break;
                }
                queue.poll();
            }
            ticker.advanceTo(next.due);
            next.run();
            runs++;
        }
        ticker.advanceTo(target);
        return runs;
    }

    /** Runs the tasks that are due now (without moving time). */
    public int runDue() {
        return advance(Duration.ZERO);
    }

    /** Tasks waiting to fall due. */
    public synchronized int queued() {
        return queue.size();
    }

    /** How long until the next task falls due, or empty if none waits. */
    public synchronized java.util.Optional<Duration> nextIn() {
        Task<?> next = queue.peek();
        return next == null
                ? java.util.Optional.empty()
                : java.util.Optional.of(Duration.ofNanos(Math.max(0, next.due - ticker.nanos())));
    }

    /**
     * How long until the last task falls due, or empty if none waits: a test's way to see that a
     * long timer (a wait's timeout) is set, among the short ones of heartbeats and requests.
     */
    public synchronized java.util.Optional<Duration> lastIn() {
        return queue.stream().mapToLong(task -> task.due).max().stream()
                .mapToObj(due -> Duration.ofNanos(Math.max(0, due - ticker.nanos())))
                .findFirst();
    }

    private synchronized <V> Task<V> enqueue(Task<V> task) {
        if (shutdown) {
            throw new RejectedExecutionException("the manual scheduler is shut down");
        }
        task.seq = sequence++;
        queue.add(task);
        return task;
    }

    private synchronized void remove(Task<?> task) {
        queue.remove(task);
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        return enqueue(new Task<Void>(Executors.callable(command, null), due(delay, unit), 0));
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        return enqueue(new Task<>(callable, due(delay, unit), 0));
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        return enqueue(
                new Task<Void>(Executors.callable(command, null), due(initialDelay, unit), positive(period, unit)));
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        return enqueue(
                new Task<Void>(Executors.callable(command, null), due(initialDelay, unit), -positive(delay, unit)));
    }

    @Override
    public void execute(Runnable command) {
        schedule(command, 0, TimeUnit.NANOSECONDS);
    }

    private long due(long delay, TimeUnit unit) {
        return ticker.nanos() + Math.max(0, unit.toNanos(delay));
    }

    private static long positive(long period, TimeUnit unit) {
        long nanos = unit.toNanos(period);
        if (nanos <= 0) {
            throw new IllegalArgumentException("the period must be positive, not " + period + " " + unit);
        }
        return nanos;
    }

    @Override
    public synchronized void shutdown() {
        shutdown = true;
    }

    @Override
    public synchronized List<Runnable> shutdownNow() {
        shutdown = true;
        List<Runnable> left = new ArrayList<>(queue);
        queue.clear();
        return left;
    }

    @Override
    public synchronized boolean isShutdown() {
        return shutdown;
    }

    @Override
    public synchronized boolean isTerminated() {
        return shutdown && queue.isEmpty();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return isTerminated();
    }

    /** A task: one-shot (period 0), fixed rate (period > 0) or fixed delay (period < 0). */
    private final class Task<V> extends FutureTask<V> implements RunnableScheduledFuture<V> {
        private long due;
        private final long period;
        private long seq;

        Task(Callable<V> callable, long due, long period) {
            super(callable);
            this.due = due;
            this.period = period;
        }

        @Override
        public boolean isPeriodic() {
            return period != 0;
        }

        @Override
        public void run() {
            if (!isPeriodic()) {
                super.run();
            } else if (runAndReset()) {
                due = period > 0 ? due + period : ticker.nanos() - period;
                synchronized (ManualScheduler.this) {
                    if (!shutdown) {
                        enqueue(this);
                    }
                }
            }
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            boolean cancelled = super.cancel(mayInterruptIfRunning);
            remove(this);
            return cancelled;
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(due - ticker.nanos(), TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(Delayed other) {
            if (other instanceof Task<?> t) {
                int byDue = Long.compare(due, t.due);
                return byDue != 0 ? byDue : Long.compare(seq, t.seq);
            }
            return Long.compare(getDelay(TimeUnit.NANOSECONDS), other.getDelay(TimeUnit.NANOSECONDS));
        }
    }
}
