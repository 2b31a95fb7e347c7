package io.holdfast;

import java.time.Duration;
import java.util.function.DoubleSupplier;

/**
 * How a client retries a request that failed with {@link UnavailableException}: exponential
 * backoff with jitter, bounded both in attempts and in total time. Changing requests carry
 * invocation ids, so a retry after a lost reply gets the original answer rather than a second
 * effect.
 *
 * <p>The delay before retry {@code n} (1-based) is {@code min(maxDelay, initialDelay *
 * multiplier^(n-1))}, of which a random fraction up to {@code jitter} is taken off ("equal jitter"
 * for jitter 0.5, none for 0, "full jitter" for 1), so that clients that failed together do not
 * retry together.
 *
 * <p>Every backoff of Holdfast's is a policy of this kind: {@link #defaults()} for a client's
 * requests, and, inside Holdfast, a named preset for each loop that retries without end, whose
 * delays alone are used (such a loop never asks {@link #allowsAnother}).
 *
 * @param initialDelay delay before the first retry, at least 1 ms
 * @param maxDelay the largest delay, at least {@code initialDelay}
 * @param multiplier growth per attempt, 1 to 10
 * @param jitter fraction of each delay that is random, 0 to 1
 * @param maxAttempts attempts in all, the first included, 1 to 1000
 * @param maxElapsed total time after which no new attempt starts
 */
public record RetryPolicy(
        Duration initialDelay,
        Duration maxDelay,
        double multiplier,
        double jitter,
        int maxAttempts,
        Duration maxElapsed) {

    public RetryPolicy {
        if (initialDelay == null || initialDelay.toMillis() < 1) {
            throw new InvalidArgumentException(
                    "initialDelay must be at least 1ms, not " + io.holdfast.internal.DurationText.format(initialDelay));
        }
        if (maxDelay == null || maxDelay.compareTo(initialDelay) < 0) {
            throw new InvalidArgumentException("maxDelay must be at least initialDelay, not "
                    + io.holdfast.internal.DurationText.format(maxDelay));
        }
        if (!(multiplier >= 1.0 && multiplier <= 10.0)) {
            throw new InvalidArgumentException("multiplier must be between 1 and 10, not " + multiplier);
        }
        if (!(jitter >= 0.0 && jitter <= 1.0)) {
            throw new InvalidArgumentException("jitter must be between 0 and 1, not " + jitter);
        }
        if (maxAttempts < 1 || maxAttempts > 1000) {
            throw new InvalidArgumentException("maxAttempts must be between 1 and 1000, not " + maxAttempts);
        }
        if (maxElapsed == null || maxElapsed.isNegative()) {
            throw new InvalidArgumentException("maxElapsed must not be negative, not " + maxElapsed);
        }
    }

    /**
     * 50 ms doubling up to 2 s, half of it random, for up to 30 s (at most 25 attempts): long enough
     * to ride out a leader election on a busy machine.
     */
    public static RetryPolicy defaults() {
        return new RetryPolicy(Duration.ofMillis(50), Duration.ofSeconds(2), 2.0, 0.5, 25, Duration.ofSeconds(30));
    }

    /** One attempt, no retries. */
    public static RetryPolicy none() {
        return new RetryPolicy(Duration.ofMillis(1), Duration.ofMillis(1), 1.0, 0.0, 1, Duration.ZERO);
    }

    /**
     * The delay before retry {@code retry} (1 for the first retry).
     *
     * @param random a source of uniform numbers in [0, 1)
     */
    public Duration delayBefore(int retry, DoubleSupplier random) {
        if (retry < 1) {
            throw new InvalidArgumentException("retry counts from 1, not " + retry);
        }
        double base = initialDelay.toNanos() * Math.pow(multiplier, Math.min(retry - 1, 62));
        double capped = Math.min(base, (double) maxDelay.toNanos());
        double withJitter = capped * (1.0 - jitter * random.getAsDouble());
        return Duration.ofNanos(Math.max(1_000_000L, (long) withJitter));
    }

    /**
     * Whether another attempt may start after {@code attemptsSoFar} attempts and {@code elapsed}
     * time since the first one began.
     */
    public boolean allowsAnother(int attemptsSoFar, Duration elapsed) {
        return attemptsSoFar < maxAttempts && elapsed.compareTo(maxElapsed) < 0;
    }
}
