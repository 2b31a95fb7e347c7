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
 * requests, and a named preset for each loop that retries without end ({@link #untilKnown()},
 * {@link #watchReconnect()}, {@link #eventStreamReconnect()}, {@link #registerConflict()}, and
 * for providers and the server {@link #lockPoll}, {@link #announcedLockPoll}, {@link
 * #counterFileLock()}, {@link #versionReport()}), whose delays alone are used: such a loop never
 * asks {@link #allowsAnother}.
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
            throw new InvalidArgumentException("initialDelay must be at least 1ms, not " + initialDelay);
        }
        if (maxDelay == null || maxDelay.compareTo(initialDelay) < 0) {
            throw new InvalidArgumentException("maxDelay must be at least initialDelay, not " + maxDelay);
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

    /**
     * A request whose effect the client must be sure of (a release, the withdrawal of a wait) and
     * whose outcome is unknown is sent again after 200 ms doubling up to 5 s, without jitter, until
     * the service answers or the session ends. Only its delays are used.
     */
    public static RetryPolicy untilKnown() {
        return endless(Duration.ofMillis(200), Duration.ofSeconds(5), 0.0);
    }

    /**
     * A watch whose feed is unavailable reads it again from the same position after 50 ms doubling
     * up to 2 s, without jitter: a leader change or a broken connection delays events, never loses
     * them. Only its delays are used.
     */
    public static RetryPolicy watchReconnect() {
        return endless(Duration.ofMillis(50), Duration.ofSeconds(2), 0.0);
    }

    /**
     * A client's event stream that ended is opened again after 50 ms doubling up to 1 s, half of it
     * random, so that the streams of clients cut off together do not come back together. Only its
     * delays are used.
     */
    public static RetryPolicy eventStreamReconnect() {
        return endless(Duration.ofMillis(50), Duration.ofSeconds(1), 0.5);
    }

    /**
     * A register recipe whose write lost to another's (a {@link ConflictException}) reads and
     * writes again after 1 ms doubling up to 64 ms, all of it random (and at least 1 ms), so that many writers (a
     * barrier of thousands of parties arriving together) do not retry in lock step. Only its delays
     * are used.
     */
    public static RetryPolicy registerConflict() {
        return endless(Duration.ofMillis(1), Duration.ofMillis(64), 1.0);
    }

    /**
     * A provider's waiter for a lock held by another polls again after 2 ms doubling up to {@code
     * longest} (its {@code maxPoll}; the first pause is {@code longest} if that is shorter), without
     * jitter. Only its delays are used.
     */
    public static RetryPolicy lockPoll(Duration longest) {
        Duration first = Duration.ofMillis(2);
        return endless(longest.compareTo(first) < 0 ? longest : first, longest, 0.0);
    }

    /**
     * A waiter that is also told when the lock may have come free (Redis's announcements of a
     * grant) polls again after 20 ms doubling up to 1 s, or up to a quarter of the lock's {@code
     * expiry} if that is shorter (but at least 20 ms), without jitter, and starts again from 20 ms
     * after each announcement. Only its delays are used.
     */
    public static RetryPolicy announcedLockPoll(Duration expiry) {
        Duration first = Duration.ofMillis(20);
        Duration longest = Duration.ofNanos(Math.min(Duration.ofSeconds(1).toNanos(), expiry.toNanos() / 4));
        return endless(first, longest.compareTo(first) < 0 ? first : longest, 0.0);
    }

    /**
     * A process that finds the file provider's token counter locked by another tries again after 1
     * ms doubling up to 20 ms, without jitter. Only its delays are used.
     */
    public static RetryPolicy counterFileLock() {
        return endless(Duration.ofMillis(1), Duration.ofMillis(20), 0.0);
    }

    /**
     * A server node whose report of its protocol version did not reach the leader reports again
     * after 1 s doubling up to 15 s, without jitter. Only its delays are used.
     */
    public static RetryPolicy versionReport() {
        return endless(Duration.ofSeconds(1), Duration.ofSeconds(15), 0.0);
    }

    /** A doubling policy for a loop that retries without end: its bounds are the largest allowed. */
    private static RetryPolicy endless(Duration initialDelay, Duration maxDelay, double jitter) {
        return new RetryPolicy(initialDelay, maxDelay, 2.0, jitter, 1000, Duration.ofSeconds(Long.MAX_VALUE));
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
