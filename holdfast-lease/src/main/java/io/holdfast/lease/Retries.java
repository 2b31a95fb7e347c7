package io.holdfast.lease;

import io.holdfast.InvalidArgumentException;
import io.holdfast.RetryPolicy;
import io.holdfast.Ticker;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.DoubleSupplier;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * Runs an attempt again after a retryable failure, as a {@link RetryPolicy} says: attempt {@code
 * n} fails, and while {@link RetryPolicy#allowsAnother allowsAnother(n, elapsed)} holds the next
 * attempt starts after {@link RetryPolicy#delayBefore delayBefore(n)}. Blocking ({@link #call}) or
 * asynchronous ({@link #callAsync}, on a given scheduler), with one rule for both.
 *
 * <p>Instances are immutable: {@link #random}, {@link #pause}, {@link #stopWhen}, {@link #within},
 * {@link #onRetry} and {@link #onGiveUp} return a changed copy. A typical use:
 *
 * <pre>{@code
 * Retries retries = Retries.of(options.retryPolicy(), options.ticker()).stopWhen(closed::get);
 * boolean had = retries.call(attempt -> backend.release(grant), e -> e instanceof UnavailableException);
 * }</pre>
 *
 * <p><b>Guarantees.</b> Attempts are numbered from 1 and run one at a time: the next starts only
 * after the previous one has failed and its pause has passed. Only unchecked failures that {@code
 * retryable} accepts are retried; any other failure (a checked exception, an {@link Error}, an
 * unchecked failure it refuses) ends the call at once, unchanged. Elapsed time is read from the
 * given {@link Ticker}, from just before the first attempt, and pauses are drawn with the given
 * randomness, so a test with a fake ticker and fixed randomness sees the same attempts every time.
 * After attempt {@code n} fails with a retryable failure, another is made only if, in this order:
 * {@link #stopWhen} is false, {@code allowsAnother(n, elapsed)} holds, and the pause {@code
 * delayBefore(n)} is shorter than the time {@link #within} leaves. The listener of {@link
 * #onRetry} hears of each failure that is retried, before its pause. When a retryable failure is
 * not retried, the call fails with what {@link #onGiveUp} makes of it (by default, the failure
 * itself).
 *
 * <p><b>Does not guarantee</b> that an attempt which failed took no effect: retry only what is
 * safe to repeat (a command with an invocation id, a read, a transaction rolled back). A retry
 * does not start at an exact time: a pause is at least as long as asked, later on a busy
 * scheduler.
 *
 * <p><b>A failure story.</b> A store restarts while a release is sent: attempt 1 fails with {@code
 * UnavailableException}, the helper waits about 50 ms, attempt 2 fails the same way, and so on;
 * once the policy allows no more (by default 25 attempts or 30 s, whichever comes first) the
 * release fails with the last {@code UnavailableException}, so the caller sees why (connection
 * refused), not merely that it was retried.
 */
public final class Retries {
    private static final DoubleSupplier THREAD_LOCAL_RANDOM =
            () -> ThreadLocalRandom.current().nextDouble();
    private static final Pause SLEEP = pause -> TimeUnit.NANOSECONDS.sleep(pause.toNanos());

    /** One attempt of a blocking call. */
    @FunctionalInterface
    public interface Attempt<T, E extends Exception> {
        /** @param attempt counts from 1 */
        T run(int attempt) throws E, InterruptedException;
    }

    /** Waits between the attempts of a blocking call. */
    @FunctionalInterface
    public interface Pause {
        void pause(Duration pause) throws InterruptedException;
    }

    /** Told of each failure that is retried, before the pause. */
    @FunctionalInterface
    public interface RetryListener {
        /** @param attempt the number of the attempt that failed; the next one is {@code attempt + 1} */
        void retrying(RuntimeException failure, int attempt, Duration pause);
    }

    /** What a call fails with when a retryable failure is not retried. */
    @FunctionalInterface
    public interface GiveUp {
        /**
         * @param last the last attempt's failure
         * @param attempts how many attempts were made
         * @param elapsed the time from the start of the first attempt to this failure
         */
        RuntimeException failure(RuntimeException last, int attempts, Duration elapsed);
    }

    private final RetryPolicy policy;
    private final Ticker ticker;
    private final DoubleSupplier random;
    private final Pause pause;
    private final BooleanSupplier stop;
    private final LongSupplier nanosLeft;
    private final RetryListener onRetry;
    private final GiveUp giveUp;

    private Retries(
            RetryPolicy policy,
            Ticker ticker,
            DoubleSupplier random,
            Pause pause,
            BooleanSupplier stop,
            LongSupplier nanosLeft,
            RetryListener onRetry,
            GiveUp giveUp) {
        this.policy = policy;
        this.ticker = ticker;
        this.random = random;
        this.pause = pause;
        this.stop = stop;
        this.nanosLeft = nanosLeft;
        this.onRetry = onRetry;
        this.giveUp = giveUp;
    }

    /**
     * Retries with this policy, measuring elapsed time on this ticker; pauses drawn with {@link
     * ThreadLocalRandom}, blocking pauses slept, no stop condition, no time bound but the policy's.
     */
    public static Retries of(RetryPolicy policy, Ticker ticker) {
        if (policy == null || ticker == null) {
            throw new InvalidArgumentException("Retries needs a retry policy and a ticker");
        }
        return new Retries(
                policy, ticker, THREAD_LOCAL_RANDOM, SLEEP, () -> false, null, (f, n, p) -> {}, (f, n, e) -> f);
    }

    /** The same, drawing each pause's jitter from {@code random} (uniform in [0, 1)). */
    public Retries random(DoubleSupplier random) {
        return new Retries(policy, ticker, required(random), pause, stop, nanosLeft, onRetry, giveUp);
    }

    /** The same, waiting between blocking attempts with {@code pause} (a test's fake clock). */
    public Retries pause(Pause pause) {
        return new Retries(policy, ticker, random, required(pause), stop, nanosLeft, onRetry, giveUp);
    }

    /** The same, retrying no more once {@code stop} says so (the client closed), asked after each failure. */
    public Retries stopWhen(BooleanSupplier stop) {
        return new Retries(policy, ticker, random, pause, required(stop), nanosLeft, onRetry, giveUp);
    }

    /**
     * The same, also bounded in time: no retry whose pause would use up all of the nanoseconds
     * that {@code nanosLeft} reports after a failure (a caller's deadline); the call gives up at
     * once rather than wait for nothing.
     */
    public Retries within(LongSupplier nanosLeft) {
        return new Retries(policy, ticker, random, pause, stop, required(nanosLeft), onRetry, giveUp);
    }

    /** The same, telling {@code listener} of each failure that is retried (to log it, or remember it). */
    public Retries onRetry(RetryListener listener) {
        return new Retries(policy, ticker, random, pause, stop, nanosLeft, required(listener), giveUp);
    }

    /** The same, failing with what {@code giveUp} makes of a retryable failure that is not retried. */
    public Retries onGiveUp(GiveUp giveUp) {
        return new Retries(policy, ticker, random, pause, stop, nanosLeft, onRetry, required(giveUp));
    }

    /**
     * Runs {@code attempt} on this thread until it returns, or fails in a way that is not retried.
     *
     * @param retryable which unchecked failures are worth another attempt
     * @return what the first successful attempt returned
     * @throws E a checked failure of an attempt, at once
     * @throws InterruptedException if interrupted during an attempt, or during a pause; in the
     *     latter case its cause is the failure that was to be retried (a caller that must not throw
     *     it restores the thread's flag and throws that cause)
     */
    public <T, E extends Exception> T call(Attempt<T, E> attempt, Predicate<? super RuntimeException> retryable)
            throws E, InterruptedException {
        long startNanos = ticker.nanos();
        for (int n = 1; ; n++) {
            RuntimeException failure;
            try {
                return attempt.run(n);
            } catch (RuntimeException e) {
                if (!retryable.test(e)) {
                    throw e;
                }
                failure = e;
            }
            Duration elapsed = Duration.ofNanos(ticker.nanos() - startNanos);
            Duration next = nextPause(n, elapsed);
            if (next == null) {
                throw giveUp.failure(failure, n, elapsed);
            }
            onRetry.retrying(failure, n, next);
            try {
                pause.pause(next);
            } catch (InterruptedException e) {
                InterruptedException interrupted =
                        new InterruptedException("interrupted while waiting to retry: " + failure.getMessage());
                interrupted.initCause(failure);
                throw interrupted;
            }
        }
    }

    /**
     * Runs {@code attempt} until its future completes normally, or fails in a way that is not
     * retried; each retry is scheduled on {@code scheduler} after its pause. Completing or
     * cancelling the returned future stops the retries: no attempt starts after that, and a
     * scheduled one is cancelled; cancelling it also cancels the future of the attempt on its way
     * (a long poll the caller gave up on ends there, not when its wait is over). An attempt that
     * throws counts as an attempt that failed so. The failure of the returned future is the
     * attempt's own, without the {@link CompletionException} around it. If the scheduler refuses a
     * retry (it was shut down), the call gives up at once.
     *
     * @param attempt makes attempt {@code n} (counted from 1), on the thread that completed the
     *     previous one, or the scheduler's
     * @param retryable which unchecked failures are worth another attempt
     */
    public <T> CompletableFuture<T> callAsync(
            IntFunction<CompletableFuture<T>> attempt,
            Predicate<? super RuntimeException> retryable,
            ScheduledExecutorService scheduler) {
        CompletableFuture<T> result = new CompletableFuture<>();
        AsyncCall<T> call = new AsyncCall<>(attempt, retryable, scheduler, result, ticker.nanos());
        result.whenComplete((value, error) -> {
            call.cancelPending();
            if (result.isCancelled()) {
                call.cancelCurrent();
            }
        });
        call.attempt(1);
        return result;
    }

    /** The pause before the retry after attempt {@code n}, or null if there is none. */
    private Duration nextPause(int n, Duration elapsed) {
        if (stop.getAsBoolean() || !policy.allowsAnother(n, elapsed)) {
            return null;
        }
        Duration next = policy.delayBefore(n, random);
        if (nanosLeft != null && next.toNanos() >= nanosLeft.getAsLong()) {
            return null;
        }
        return next;
    }

    private static <T> T required(T value) {
        if (value == null) {
            throw new InvalidArgumentException("Retries takes no null");
        }
        return value;
    }

    /** The cause under the wrappers a future adds. */
    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** One asynchronous call: its attempts, and the retry scheduled, if any. */
    private final class AsyncCall<T> {
        private final IntFunction<CompletableFuture<T>> attempt;
        private final Predicate<? super RuntimeException> retryable;
        private final ScheduledExecutorService scheduler;
        private final CompletableFuture<T> result;
        private final long startNanos;
        private final AtomicReference<Future<?>> pending = new AtomicReference<>();
        /** The future of the attempt on its way, or null before the first. */
        private final AtomicReference<CompletableFuture<T>> current = new AtomicReference<>();

        AsyncCall(
                IntFunction<CompletableFuture<T>> attempt,
                Predicate<? super RuntimeException> retryable,
                ScheduledExecutorService scheduler,
                CompletableFuture<T> result,
                long startNanos) {
            this.attempt = attempt;
            this.retryable = retryable;
            this.scheduler = scheduler;
            this.result = result;
            this.startNanos = startNanos;
        }

        void attempt(int n) {
            if (result.isDone()) {
                return; // completed or cancelled by the caller
            }
            CompletableFuture<T> sent;
            try {
                sent = attempt.apply(n);
                if (sent == null) {
                    sent = CompletableFuture.failedFuture(new NullPointerException("attempt " + n + " made no future"));
                }
            } catch (RuntimeException e) {
                sent = CompletableFuture.failedFuture(e);
            }
            current.set(sent);
            if (result.isCancelled()) {
                sent.cancel(false); // cancelled while this attempt was being made
            }
            sent.whenComplete((value, error) -> {
                if (error == null) {
                    result.complete(value);
                } else {
                    failed(n, unwrap(error));
                }
            });
        }

        private void failed(int n, Throwable cause) {
            if (!(cause instanceof RuntimeException failure) || !retryable.test(failure)) {
                result.completeExceptionally(cause);
                return;
            }
            Duration elapsed = Duration.ofNanos(ticker.nanos() - startNanos);
            Duration next = result.isDone() ? null : nextPause(n, elapsed);
            if (next != null) {
                onRetry.retrying(failure, n, next);
                try {
                    pending.set(scheduler.schedule(() -> attempt(n + 1), next.toNanos(), TimeUnit.NANOSECONDS));
                    if (result.isDone()) {
                        cancelPending(); // completed while the retry was being scheduled
                    }
                    return;
                } catch (RejectedExecutionException shutDown) {
                    // the scheduler is shut down: give up now
                }
            }
            result.completeExceptionally(giveUp.failure(failure, n, elapsed));
        }

        void cancelPending() {
            Future<?> retry = pending.get();
            if (retry != null) {
                retry.cancel(false);
            }
        }

        void cancelCurrent() {
            CompletableFuture<T> sent = current.get();
            if (sent != null) {
                sent.cancel(false);
            }
        }
    }
}
