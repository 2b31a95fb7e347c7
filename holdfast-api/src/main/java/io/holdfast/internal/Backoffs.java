package io.holdfast.internal;

import io.holdfast.RetryPolicy;
import java.time.Duration;

/**
 * The backoff of every loop inside Holdfast that retries without end, one named {@link
 * RetryPolicy} each, so that changing one is a one-place change. Such a loop uses only the
 * policy's delays ({@link RetryPolicy#delayBefore}) and never asks {@link
 * RetryPolicy#allowsAnother}: it ends when what it waits for happens or its owner stops it.
 */
public final class Backoffs {
    private Backoffs() {}

    /**
     * A request whose effect the client must be sure of (a release, the withdrawal of a wait) and
     * whose outcome is unknown is sent again after 200 ms doubling up to 5 s, without jitter, until
     * the service answers or the session ends. Only its delays are used.
     */
    public static RetryPolicy untilKnown() {
        return endless(Duration.ofMillis(200), Duration.ofSeconds(5), 0.0);
    }

    /**
     * One client call during a leader search (a member answered that it does not lead, and no
     * member could serve the call: an election is under way) goes round the members again after 20
     * ms doubling up to 100 ms, half of it random, so that a client learns the new leader within
     * about 100 ms of its election and the clients of one cluster do not poll together. Only its
     * delays are used; the call's own deadline, and the client's bound on a search, end it.
     */
    public static RetryPolicy leaderSearch() {
        return endless(Duration.ofMillis(20), Duration.ofMillis(100), 0.5);
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
     * A client whose session was lost opens a new one after 100 ms doubling up to 2 s, all of it
     * random ("full jitter"), until one opens or the client is closed (ADR 0004), so that the
     * clients of a service that comes back do not all come at once. Every client has this rule,
     * the Python, Go and Node clients too ({@code clients/vectors/limits.json}). The cap is what
     * finds a returning service in time: with 10 s, a member back after 6 s was found up to 6 s
     * later, and the HTTP clients, whose tries go round the members until their request timeout,
     * still found a service back from a 30 s outage up to 10 s later (the conformance suite's
     * outage, issue 70: "back within 5 s"; a Go registrant missed it by 0.2 s). Only its delays are
     * used.
     */
    public static RetryPolicy sessionRenewal() {
        return endless(SESSION_RENEWAL_FIRST, SESSION_RENEWAL_CAP, 1.0);
    }

    /**
     * The first pause of {@link #sessionRenewal()}, in every client: {@code clients/vectors/limits.json}
     * holds it for the Python, Go and Node clients, whose tests read it.
     */
    public static final Duration SESSION_RENEWAL_FIRST = Duration.ofMillis(100);

    /**
     * The longest pause of {@link #sessionRenewal()}, in every client ({@code
     * clients/vectors/limits.json}): a service that comes back is found within it.
     */
    public static final Duration SESSION_RENEWAL_CAP = Duration.ofSeconds(2);

    /**
     * The first pause before a group member's join under a new session is tried again, in every
     * client ({@code clients/vectors/limits.json}, {@code rejoinFirstMillis}).
     */
    public static final Duration REJOIN_FIRST = Duration.ofMillis(100);

    /** The longest such pause, in every client ({@code rejoinCapMillis}). */
    public static final Duration REJOIN_CAP = Duration.ofSeconds(1);

    /**
     * A group member's join under a new session that failed for any reason but another session
     * holding the name (the service unreachable again, the session lost again, a refusal that may
     * pass) is tried again after {@link #REJOIN_FIRST} doubling up to {@link #REJOIN_CAP}, without
     * jitter. Only its delays are used.
     */
    public static RetryPolicy rejoin() {
        return endless(REJOIN_FIRST, REJOIN_CAP, 0.0);
    }

    /**
     * A register recipe whose write lost to another's (a {@link io.holdfast.ConflictException}) reads and
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
}
