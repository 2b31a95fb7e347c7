package io.holdfast.client.internal;

import io.holdfast.internal.DaemonThreads;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The threads of one client: a timer thread (retries, backstops of waits, heartbeats, lease
 * renewals) and a pool for what callers see (completions of async calls, loss listeners).
 *
 * <p><b>Guarantees.</b> A caller's continuation never runs on a transport thread (gRPC's I/O
 * threads) or on the timer thread: {@link #toCaller} and {@link #runCallback} hand it to the
 * callback pool, so user code that blocks cannot stall event delivery or timers. Scheduling after
 * {@link #shutdown} is not an error: it returns null and nothing runs, because every timer of a
 * closed client is moot.
 *
 * <p>The timers run on the scheduler of {@link io.holdfast.ClientOptions#scheduler()} when one is
 * given (a test's manual scheduler, or an application's shared one, which is never shut down here),
 * else on a daemon thread of this client's own. The callbacks run on the executor of {@link
 * io.holdfast.ClientOptions#callbackExecutor()} when one is given (shared, never shut down here: the
 * client stops handing it tasks once closed), else on a pool of this client's own.
 *
 * <p><b>Does not guarantee</b> the order in which callbacks run, or that a timer cancelled while
 * it fires does not run; with a given scheduler, timers still queued when the client closes run
 * later and find the client closed.
 */
final class ClientThreads {
    private final ScheduledExecutorService timers;
    /** Whether {@link #timers} is the client's own (stopped with it) or given in the options. */
    private final boolean ownTimers;

    private final ExecutorService callbacks;

    /** With the client's own callback pool. */
    ClientThreads(String tag, Optional<ScheduledExecutorService> given) {
        this(tag, given, Optional.empty());
    }

    /**
     * @param tag a short name for the threads (a prefix of the session id)
     * @param given the scheduler of the options, if one was given (never shut down here)
     * @param givenCallbacks the callback executor of the options, if one was given (never shut
     *     down here)
     */
    ClientThreads(String tag, Optional<ScheduledExecutorService> given, Optional<Executor> givenCallbacks) {
        if (given.isPresent()) {
            timers = given.get();
            ownTimers = false;
        } else {
            ScheduledThreadPoolExecutor own =
                    new ScheduledThreadPoolExecutor(1, DaemonThreads.named("holdfast-client-" + tag));
            // Every acquire sets a timer that is cancelled when the answer comes: drop those at
            // once instead of keeping them queued until they would have fired (a wait may last
            // minutes).
            own.setRemoveOnCancelPolicy(true);
            timers = own;
            ownTimers = true;
        }
        callbacks = givenCallbacks
                .<ExecutorService>map(SharedCallbacks::new)
                .orElseGet(() -> Executors.newCachedThreadPool(DaemonThreads.named("holdfast-callbacks-" + tag)));
    }

    /**
     * One client's view of a shared executor: it hands tasks on until {@link #shutdown}, then
     * refuses them as a pool of the client's own would; the shared executor itself is never shut
     * down. Terminated once shut down and no task it handed on is still running.
     */
    static final class SharedCallbacks extends AbstractExecutorService {
        private final Executor shared;
        private int running;
        private boolean shutdown;

        SharedCallbacks(Executor shared) {
            this.shared = shared;
        }

        @Override
        public void execute(Runnable task) {
            synchronized (this) {
                if (shutdown) {
                    throw new RejectedExecutionException("the client is closed");
                }
                running++;
            }
            try {
                shared.execute(() -> {
                    try {
                        task.run();
                    } finally {
                        done();
                    }
                });
            } catch (RuntimeException e) {
                done();
                throw e;
            }
        }

        private synchronized void done() {
            running--;
            notifyAll();
        }

        @Override
        public synchronized void shutdown() {
            shutdown = true;
            notifyAll();
        }

        @Override
        public List<Runnable> shutdownNow() {
            shutdown(); // tasks already handed on belong to the shared executor now
            return List.of();
        }

        @Override
        public synchronized boolean isShutdown() {
            return shutdown;
        }

        @Override
        public synchronized boolean isTerminated() {
            return shutdown && running == 0;
        }

        @Override
        public synchronized boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
            long deadline = System.nanoTime() + unit.toNanos(timeout);
            while (!isTerminated()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            return true;
        }
    }

    /** Runs the task after the delay on the timer thread; null if the client is closed. */
    ScheduledFuture<?> schedule(Runnable task, long delayMillis) {
        return scheduleNanos(task, TimeUnit.MILLISECONDS.toNanos(delayMillis));
    }

    /** Runs the task after the delay on the timer thread; null if the client is closed. */
    ScheduledFuture<?> scheduleNanos(Runnable task, long delayNanos) {
        try {
            return timers.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException closed) {
            return null;
        }
    }

    /**
     * The timer thread's scheduler itself, for code that schedules on its own ({@link
     * io.holdfast.lease.Retries}): it refuses tasks once the client is closed.
     */
    ScheduledExecutorService timers() {
        return timers;
    }

    /**
     * The callback pool itself, for code that runs on an executor of its own ({@link
     * io.holdfast.recipes.Recipes}): it refuses tasks once the client is closed.
     */
    ExecutorService callbacks() {
        return callbacks;
    }

    /** Runs the task again and again with this delay between runs; null if the client is closed. */
    Future<?> scheduleWithFixedDelay(Runnable task, long initialDelayMillis, long delayMillis) {
        try {
            return timers.scheduleWithFixedDelay(task, initialDelayMillis, delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closed) {
            return null;
        }
    }

    /** Runs a caller's code on the callback pool (on this thread once the pool is shut down). */
    void runCallback(Runnable task) {
        try {
            callbacks.execute(task);
        } catch (RejectedExecutionException closed) {
            task.run();
        }
    }

    /**
     * The future to give a caller of an async method: it completes as {@code internal} does, but
     * on a callback thread, and with the cause itself rather than a {@link CompletionException}.
     */
    <T> CompletableFuture<T> toCaller(CompletableFuture<T> internal) {
        CompletableFuture<T> caller = new CompletableFuture<>();
        internal.whenComplete((value, error) -> runCallback(() -> {
            if (error == null) {
                caller.complete(value);
            } else {
                caller.completeExceptionally(
                        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error);
            }
        }));
        return caller;
    }

    /** Timers waiting on the client's own timer thread (for tests: they must not pile up). */
    int pendingTimers() {
        return timers instanceof ScheduledThreadPoolExecutor own
                ? own.getQueue().size()
                : -1;
    }

    /** No new timer runs any more (the session expired); callbacks still do. */
    void stopTimers() {
        if (ownTimers) {
            timers.shutdown();
        }
    }

    /** Stops both, but not a scheduler given in the options: the client is closed. */
    void shutdown() {
        if (ownTimers) {
            timers.shutdownNow();
        }
        callbacks.shutdown();
    }
}
