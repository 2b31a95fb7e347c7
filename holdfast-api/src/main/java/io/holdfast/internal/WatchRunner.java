package io.holdfast.internal;

import io.holdfast.HoldfastException;
import io.holdfast.RetryPolicy;
import io.holdfast.UnavailableException;
import io.holdfast.Watch;
import io.holdfast.WatchEvent;
import io.holdfast.WatchListener;
import io.holdfast.WatchTarget;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Runs one watch: reads its {@link ChangeFeed} on a thread of its own and hands each event to the
 * listener, in order. The one engine behind every provider's watches, so that retries, endings
 * and the listener's thread behave the same everywhere.
 *
 * <p>An {@link UnavailableException} from the feed is retried from the same position, after a
 * pause of {@link Backoffs#watchReconnect()}: a leader change or a broken connection delays events,
 * never loses them (the feed says {@code STATE} when it cannot fill the gap). Any other failure
 * ends the watch and is given to {@link WatchListener#onEnd}. A listener that throws is reported to the watch
 * thread's uncaught-exception handler; the watch goes on.
 */
public final class WatchRunner implements Watch {
    private static final Duration READ_WAIT = Duration.ofSeconds(5);
    private static final RetryPolicy PAUSES = Backoffs.watchReconnect();

    private final ChangeFeed feed;
    private final WatchTarget target;
    private final WatchListener listener;
    private final BooleanSupplier clientOpen;
    private final Thread thread;
    private volatile boolean open = true;
    private volatile String position = "";

    private WatchRunner(ChangeFeed feed, WatchTarget target, WatchListener listener, BooleanSupplier clientOpen) {
        this.feed = feed;
        this.target = target;
        this.listener = listener;
        this.clientOpen = clientOpen;
        this.thread = DaemonThreads.thread(this::run, "holdfast-watch " + target);
    }

    /**
     * Starts a watch.
     *
     * @param clientOpen false once the client is closed: the watch then ends
     * @throws io.holdfast.InvalidArgumentException if the listener is null
     */
    public static Watch start(ChangeFeed feed, WatchTarget target, WatchListener listener, BooleanSupplier clientOpen) {
        if (target == null) {
            throw new io.holdfast.InvalidArgumentException("the watch target must not be null");
        }
        if (listener == null) {
            throw new io.holdfast.InvalidArgumentException("the watch listener must not be null");
        }
        WatchRunner runner = new WatchRunner(feed, target, listener, clientOpen);
        runner.thread.start();
        return runner;
    }

    private void run() {
        HoldfastException cause = null;
        String after = null;
        int failures = 0;
        try {
            while (open) {
                if (!clientOpen.getAsBoolean()) {
                    cause = new UnavailableException("the watch of " + target + " ended: its client was closed");
                    break;
                }
                ChangeFeed.Page page;
                try {
                    page = feed.read(target, after, READ_WAIT);
                    failures = 0;
                } catch (UnavailableException e) {
                    failures = Math.min(failures + 1, 64);
                    Thread.sleep(PAUSES.delayBefore(failures, () -> 0.0).toMillis());
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
        } catch (InterruptedException e) {
            // closed
        } catch (HoldfastException e) {
            cause = clientOpen.getAsBoolean()
                    ? e
                    : new UnavailableException("the watch of " + target + " ended: its client was closed");
        } catch (RuntimeException e) {
            cause = new UnavailableException(Causes.withCause("the watch of " + target + " failed", e), e);
        } finally {
            open = false;
            try {
                listener.onEnd(cause);
            } catch (RuntimeException e) {
                listenerFailed(e);
            }
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
        if (Thread.currentThread() != thread) {
            thread.interrupt();
        }
    }

    @Override
    public String toString() {
        return "Watch[" + target + (open ? ", open" : ", closed") + "]";
    }
}
