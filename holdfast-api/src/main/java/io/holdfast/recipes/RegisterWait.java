package io.holdfast.recipes;

import io.holdfast.AcquireOptions;
import io.holdfast.HoldfastException;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.UnavailableException;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.Versioned;
import io.holdfast.Watch;
import io.holdfast.WatchEvent;
import io.holdfast.WatchListener;
import io.holdfast.WatchTarget;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * Waits for what a register holds to satisfy a condition, woken by a watch of the register ({@link
 * LockClient#watch(WatchTarget, WatchListener)}), not by sleeping: the condition is tested on the
 * watch's first state and on every version it reports. When the timeout passes the register is read
 * once more, so the answer never rests on a change the watch coalesced or had not delivered yet, and
 * a service that cannot be read is an exception, never a {@code false}.
 *
 * <p>The condition must be <em>stable</em>: once true of some version, true of every later one (the
 * recipes test a generation that only grows). Then a version the watch skipped, or a stale read,
 * can delay the answer but never make it wrong.
 */
final class RegisterWait {
    /** The longest it waits past the timeout for the final read, when the service is slow to answer. */
    private static final Duration READ_GRACE = Duration.ofSeconds(30);

    private RegisterWait() {}

    /**
     * Completes with true once the register's value (null: never written) satisfies {@code done},
     * or with the final read's answer once {@code timeout} has passed. Exceptionally if the watch
     * ends with a failure, the condition throws, or the final read fails. Cancelling it closes the
     * watch.
     *
     * @throws UnsupportedFeatureException if the register cannot be watched
     */
    static CompletableFuture<Boolean> until(Recipes recipes, String key, Predicate<byte[]> done, Duration timeout) {
        LockClient client = recipes.client();
        CompletableFuture<Boolean> result = new CompletableFuture<>();
        Watch watch = client.watch(WatchTarget.register(key), new WatchListener() {
            @Override
            public void onEvent(WatchEvent event) {
                if (event.type() == WatchEvent.Type.STATE || event.type() == WatchEvent.Type.REGISTER_SET) {
                    test(done, event.value(), result);
                }
            }

            @Override
            public void onEnd(HoldfastException cause) {
                if (cause != null) {
                    result.completeExceptionally(cause);
                }
            }
        });
        // The timer, on the client's scheduler, only starts the final read, on the client's executor.
        ScheduledFuture<?> timer =
                recipes.schedule(() -> recipes.execute(() -> finalRead(client, key, done, result)), timeout);
        result.whenComplete((answer, failure) -> {
            if (timer != null) {
                timer.cancel(false);
            }
            watch.close();
        });
        return result;
    }

    /** At the timeout: the answer of one more read. */
    private static void finalRead(
            LockClient client, String key, Predicate<byte[]> done, CompletableFuture<Boolean> result) {
        try {
            client.register(key).getAsync().whenComplete((now, failure) -> {
                if (failure != null) {
                    result.completeExceptionally(unwrap(failure));
                } else if (!test(done, now.map(Versioned::value).orElse(null), result)) {
                    result.complete(false);
                }
            });
        } catch (RuntimeException e) {
            result.completeExceptionally(e);
        }
    }

    /** Tests the condition; true if it holds (and the future is completed), false if not yet. */
    private static boolean test(Predicate<byte[]> done, byte[] value, CompletableFuture<Boolean> result) {
        try {
            if (done.test(value)) {
                result.complete(true);
                return true;
            }
            return false;
        } catch (RuntimeException e) {
            result.completeExceptionally(e);
            return true;
        }
    }

    /**
     * Waits for a future of this class in the caller's thread: its answer, its failure as thrown,
     * and on interrupt the wait is cancelled (its watch closed) before {@link InterruptedException}.
     *
     * @param timeout the wait's own timeout; the future answers at most a final read after it
     */
    static boolean join(CompletableFuture<Boolean> waiting, Duration timeout, String what) throws InterruptedException {
        try {
            return waiting.get(timeout.plus(READ_GRACE).toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            waiting.cancel(false);
            throw e;
        } catch (ExecutionException e) {
            throw unwrap(e.getCause());
        } catch (TimeoutException e) {
            waiting.cancel(false);
            throw new UnavailableException("could not read " + what + " within "
                    + timeout.plus(READ_GRACE).toSeconds() + " s");
        }
    }

    /** The exception a future failed with, as the blocking call throws it. */
    static RuntimeException unwrap(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof RuntimeException runtime && !(cause instanceof CancellationException)) {
            return runtime;
        }
        return new UnavailableException(String.valueOf(cause.getMessage()), cause);
    }

    /** Checks a wait's timeout: 0 to {@link AcquireOptions#MAX_DURATION}, as for acquires. */
    static Duration checkTimeout(Duration timeout) {
        if (timeout == null || timeout.isNegative() || timeout.compareTo(AcquireOptions.MAX_DURATION) > 0) {
            throw new InvalidArgumentException("the timeout must be between 0 and "
                    + io.holdfast.internal.DurationText.format(AcquireOptions.MAX_DURATION) + ", not "
                    + io.holdfast.internal.DurationText.format(timeout));
        }
        return timeout;
    }

    /** The value of a register read, null when it was never written. */
    static byte[] valueOf(Optional<Versioned> read) {
        return read.map(Versioned::value).orElse(null);
    }
}
