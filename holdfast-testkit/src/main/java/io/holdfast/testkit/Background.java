package io.holdfast.testkit;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;

/**
 * A piece of test code running on its own thread, so that a test can block in an acquire there,
 * interrupt it, and collect how it ended.
 */
final class Background<T> {
    private final Thread thread;
    private final CompletableFuture<T> result = new CompletableFuture<>();

    Background(String name, Callable<T> body) {
        this.thread = new Thread(
                () -> {
                    try {
                        result.complete(body.call());
                    } catch (Throwable t) {
                        result.completeExceptionally(t);
                    }
                },
                name);
        thread.setDaemon(true);
    }

    Background<T> start() {
        thread.start();
        return this;
    }

    Thread thread() {
        return thread;
    }

    /** Completes when the body returns or throws. */
    CompletableFuture<T> result() {
        return result;
    }

    boolean isDone() {
        return result.isDone();
    }

    void interrupt() {
        thread.interrupt();
    }

    /** The body's result, waiting at most {@code within}; rethrows what the body threw. */
    T join(Duration within) {
        return Futures.get(result, within);
    }

    /** What the body threw, waiting at most {@code within}; fails if it returned normally. */
    Throwable failure(Duration within) {
        return Futures.failure(result, within);
    }

    /** Stops the thread at the end of a test: interrupt, then wait a little for it. */
    void stop(Duration within) throws InterruptedException {
        if (thread.isAlive()) {
            thread.interrupt();
            thread.join(within.toMillis());
        }
    }
}
