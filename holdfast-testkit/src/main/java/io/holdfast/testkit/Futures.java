package io.holdfast.testkit;

import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Bounded waits on futures that turn every way of ending into a plain result or a test failure. */
final class Futures {
    private Futures() {}

    /**
     * The future's value, waiting at most {@code within}.
     *
     * @throws AssertionError if it did not complete in time, or failed with a checked exception
     * @throws RuntimeException the unchecked exception it failed with, as is
     */
    static <T> T get(CompletableFuture<T> future, Duration within) {
        try {
            return future.get(within.toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new AssertionError("completed with a checked exception: " + cause, cause);
        } catch (TimeoutException e) {
            throw new AssertionError("did not complete within " + within, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("the test thread was interrupted", e);
        }
    }

    /**
     * What the future failed with (a {@link CancellationException} if it was cancelled), waiting at
     * most {@code within}.
     *
     * @throws AssertionError if it completed normally or not in time
     */
    static Throwable failure(CompletableFuture<?> future, Duration within) {
        Object value;
        try {
            value = future.get(within.toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (CancellationException e) {
            return e;
        } catch (TimeoutException e) {
            throw new AssertionError("expected a failure within " + within + " but it was still running", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("the test thread was interrupted", e);
        }
        throw new AssertionError("expected a failure but it completed with " + value);
    }
}
