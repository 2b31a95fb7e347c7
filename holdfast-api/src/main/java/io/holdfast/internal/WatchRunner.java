package io.holdfast.internal;

import io.holdfast.HoldfastException;
import io.holdfast.RetryPolicy;
import io.holdfast.SessionExpiredException;
import io.holdfast.UnavailableException;
import io.holdfast.Watch;
import io.holdfast.WatchEvent;
import io.holdfast.WatchListener;
import io.holdfast.WatchTarget;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Runs one watch: reads its {@link ChangeFeed} in a loop on the executor it is given and hands each
 * event to the listener, in order. The one engine behind every provider's watches, so that retries,
 * endings and the listener's thread behave the same everywhere.
 *
 * <p>An {@link UnavailableException} from the feed is retried from the same position, after a
 * pause of {@link Backoffs#watchReconnect()} timed on the scheduler it is given: a leader change or
 * a broken connection delays events, never loses them (the feed says {@code STATE} when it cannot
 * fill the gap). Any other failure ends the watch and is given to {@link WatchListener#onEnd}. A
 * listener that throws is reported to the watch thread's uncaught-exception handler; the watch goes
 * on.
 *
 * <p><b>Threads and time.</b> It starts no thread, reads no clock and never sleeps: its loop is one
 * task of the executor, which holds that task's thread for the watch's life (the feed's reads block),
 * and each pause is a timer of the scheduler that the loop waits for. So a test with a manual
 * scheduler moves a watch's reconnections by moving time. {@link #close} interrupts the loop's
 * thread only while the loop runs on it, never a pool thread that has moved on.
 */
public final class WatchRunner implements Watch {
    private static final Duration READ_WAIT = Duration.ofSeconds(5);
    private static final RetryPolicy PAUSES = Backoffs.watchReconnect();
    /** How often a pause looks whether the watch or its client was closed meanwhile. */
    private static final Duration CHECK = Duration.ofSeconds(1);

    private final ChangeFeed feed;
    private final WatchTarget target;
    private final WatchListener listener;
    private final BooleanSupplier clientOpen;
    private final Supplier<String> sessionLost;
    private final ScheduledExecutorService timers;
    /** The position the first read asks after; null to start with the state. */
    private final String from;

    private volatile boolean open = true;
    private volatile String position = "";
    /** The thread the loop runs on, while it runs; guarded by {@code this}. */
    private Thread loop;
    /** The pause the loop waits for, if it waits; guarded by {@code this}. */
    private ScheduledFuture<?> pause;

    private WatchRunner(
            ChangeFeed feed,
            WatchTarget target,
            WatchListener listener,
            BooleanSupplier clientOpen,
            Supplier<String> sessionLost,
            ScheduledExecutorService timers,
            String from) {
        this.feed = feed;
        this.from = from;
        this.target = target;
        this.listener = listener;
        this.clientOpen = clientOpen;
        this.sessionLost = sessionLost;
        this.timers = timers;
    }

    /**
     * Starts a watch.
     *
     * @param clientOpen false once the client is closed: the watch then ends
     * @param executor where the watch's loop runs: one task for the watch's life, on a thread it
     *     holds meanwhile (a thread per task, or a pool that grows); one that refuses it (its client
     *     is closed) ends the watch at once, as a closed client does
     * @param timers where the pauses between failed reads are timed: the client's scheduler
     * @throws io.holdfast.InvalidArgumentException if the target or the listener is null
     */
    public static Watch start(
            ChangeFeed feed,
            WatchTarget target,
            WatchListener listener,
            BooleanSupplier clientOpen,
            Executor executor,
            ScheduledExecutorService timers) {
        return start(feed, target, listener, clientOpen, () -> null, executor, timers);
    }

    /**
     * As {@link #start(ChangeFeed, WatchTarget, WatchListener, BooleanSupplier, Executor,
     * ScheduledExecutorService)}, for a client that can tell why it stopped: when the client is no
     * longer open and {@code sessionLost} gives a reason (its session expired, or the service ended
     * it), the watch ends with a {@link SessionExpiredException} naming that reason, not as a
     * client closed by its owner.
     *
     * @param sessionLost why the client's session was lost; null while it is open or when its
     *     owner closed it
     */
    public static Watch start(
            ChangeFeed feed,
            WatchTarget target,
            WatchListener listener,
            BooleanSupplier clientOpen,
            Supplier<String> sessionLost,
            Executor executor,
            ScheduledExecutorService timers) {
        return startFrom(null, feed, target, listener, clientOpen, sessionLost, executor, timers);
    }

    /**
     * As {@link #start(ChangeFeed, WatchTarget, WatchListener, BooleanSupplier, Supplier, Executor,
     * ScheduledExecutorService)}, from a position the service gave ({@link
     * io.holdfast.KeyListing#position()}, an event's {@link WatchEvent#position()}): the first read
     * asks for the changes after it, so that a listing followed by a watch from its position misses
     * nothing. Where the feed no longer has every change since, it answers a {@code STATE} first
     * (its contract, {@link ChangeFeed}).
     *
     * @param from the position; null or "" to start with the state, as {@code start} does
     */
    public static Watch startFrom(
            String from,
            ChangeFeed feed,
            WatchTarget target,
            WatchListener listener,
            BooleanSupplier clientOpen,
            Supplier<String> sessionLost,
            Executor executor,
            ScheduledExecutorService timers) {
        if (target == null) {
            throw new io.holdfast.InvalidArgumentException("the watch target must not be null");
        }
        if (listener == null) {
            throw new io.holdfast.InvalidArgumentException("the watch listener must not be null");
        }
        WatchRunner runner = new WatchRunner(
                feed, target, listener, clientOpen, sessionLost, timers, from == null || from.isEmpty() ? null : from);
        try {
            executor.execute(runner::run);
        } catch (RejectedExecutionException closed) {
            runner.open = false;
            runner.end(runner.clientClosed());
        }
        return runner;
    }

    private void run() {
        synchronized (this) {
            loop = Thread.currentThread();
        }
        HoldfastException cause = null;
        try {
            cause = readUntilEnd();
        } catch (InterruptedException e) {
            // closed
        } catch (HoldfastException e) {
            cause = clientOpen.getAsBoolean() ? e : clientClosed();
        } catch (RuntimeException e) {
            cause = new UnavailableException(Causes.withCause("the watch of " + target + " failed", e), e);
        } finally {
            open = false;
            end(cause);
            synchronized (this) {
                loop = null;
                Thread.interrupted(); // a close() that came late must not reach the executor's next task
            }
        }
    }

    /** Reads and delivers until closed; the cause of an end that was not a close. */
    private HoldfastException readUntilEnd() throws InterruptedException {
        String after = from;
        int failures = 0;
        while (open) {
            if (!clientOpen.getAsBoolean()) {
                return clientClosed();
            }
            ChangeFeed.Page page;
            try {
                page = feed.read(target, after, READ_WAIT);
                failures = 0;
            } catch (UnavailableException e) {
                failures = Math.min(failures + 1, 64);
                if (!pause(PAUSES.delayBefore(failures, () -> 0.0))) {
                    return open ? clientClosed() : null;
                }
                continue;
            }
            for (WatchEvent event : page.events()) {
                if (!open) {
                    break;
                }
                position = event.position();
                deliver(event);
            }
            after = page.next();
        }
        return null;
    }

    /**
     * Waits {@code delay} on the scheduler's time. It looks every {@link #CHECK} whether the watch
     * or its client was closed meanwhile, since a scheduler shut down with its client drops its
     * timers without cancelling them.
     *
     * @return false if the watch or its client was closed first, or the scheduler refused the timer
     */
    private boolean pause(Duration delay) throws InterruptedException {
        ScheduledFuture<?> timer;
        try {
            timer = timers.schedule(() -> {}, delay.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException closed) {
            return false;
        }
        synchronized (this) {
            pause = timer;
        }
        try {
            while (true) {
                try {
                    timer.get(CHECK.toNanos(), TimeUnit.NANOSECONDS);
                    return true;
                } catch (TimeoutException stillWaiting) {
                    if (!open || !clientOpen.getAsBoolean()) {
                        return false;
                    }
                }
            }
        } catch (CancellationException | ExecutionException e) {
            return false; // cancelled by close()
        } finally {
            timer.cancel(false);
            synchronized (this) {
                pause = null;
            }
        }
    }

    private HoldfastException clientClosed() {
        String lost = sessionLost.get();
        if (lost != null) {
            return new SessionExpiredException("the watch of " + target + " ended: " + lost);
        }
        return new UnavailableException("the watch of " + target + " ended: its client was closed");
    }

    private void end(HoldfastException cause) {
        try {
            listener.onEnd(cause);
        } catch (RuntimeException e) {
            listenerFailed(e);
        }
    }

    private void deliver(WatchEvent event) {
        try {
            listener.onEvent(event);
        } catch (RuntimeException e) {
            listenerFailed(e);
        }
    }

    /**
     * A listener threw: a bug of the application's, reported to the watch thread's
     * uncaught-exception handler (the application's own if it set one, else the JDK's, which
     * prints it), so that the API needs no logging library. The watch goes on.
     */
    private void listenerFailed(RuntimeException e) {
        Thread self = Thread.currentThread();
        self.getUncaughtExceptionHandler().uncaughtException(self, e);
    }

    @Override
    public WatchTarget target() {
        return target;
    }

    @Override
    public String position() {
        return position;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public void close() {
        open = false;
        synchronized (this) {
            if (pause != null) {
                pause.cancel(false);
            }
            if (loop != null && loop != Thread.currentThread()) {
                loop.interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "Watch[" + target + (open ? ", open" : ", closed") + "]";
    }
}
