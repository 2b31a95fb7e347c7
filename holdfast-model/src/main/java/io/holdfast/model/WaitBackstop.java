package io.holdfast.model;

/**
 * When whoever awaits a queued acquire's outcome, hearing nothing, asks the table for it again:
 * the one rule of the Java client (which hears the outcome as an event on its stream) and of the
 * node's HTTP sessions (which hear it as the event of the entry applied on their replica).
 *
 * <p><b>The rule.</b> The first ask is {@link #graceMillis grace} after the wait's end: the wait
 * plus {@code max(2 s, TTL)} of the session that waits. While the table still answers "queued",
 * the outcome is asked for {@value #MORE_ASKS} more times, {@value #ASK_INTERVAL_MILLIS} ms apart;
 * then the asker gives up (the Java client withdraws the wait, which answers with a grant made
 * meanwhile or ends it; the HTTP request is answered {@code UNAVAILABLE}, and the client sends the
 * same request again). An ask re-sends the same invocation, so the table answers with the outcome
 * it remembers and never acquires twice.
 *
 * <p><b>Why these numbers.</b> The table ends a wait by its own clock, and the event of that end
 * is late only when the cluster cannot act: a leader change, a replica cut off, a stream that
 * broke. The TTL is the silence the cluster already tolerates in such a case (a new leader gives
 * every session a fresh TTL rather than expire it), so a cluster that works has decided the wait
 * within a TTL of its end; asking sooner only adds load on a cluster that is busy recovering. The
 * 2 s floor covers a short TTL, below a leader election on a busy machine. The few asks a second
 * apart let a leader that is just taking up its duties answer before the asker gives up; more
 * would only delay an answer a cluster that is still not deciding cannot give.
 *
 * <p><b>Does not</b> schedule anything: each asker runs the asks on its own (injected) scheduler.
 */
public final class WaitBackstop {
    /** The least grace after a wait's end before its outcome is asked for. */
    public static final long MIN_GRACE_MILLIS = 2_000;
    /** How many times the outcome is asked for again after the first ask, while it is still queued. */
    public static final int MORE_ASKS = 2;
    /** The time between two asks after the first. */
    public static final long ASK_INTERVAL_MILLIS = 1_000;

    private WaitBackstop() {}

    /** The grace after a wait's end before the first ask: {@code max(2 s, ttlMillis)}. */
    public static long graceMillis(long ttlMillis) {
        return Math.max(MIN_GRACE_MILLIS, ttlMillis);
    }

    /**
     * The delay from a queued reply to the first ask: the wait plus {@link #graceMillis grace}.
     *
     * @param waitMillis the acquire's wait
     * @param ttlMillis the TTL of the session that waits (0 or less if unknown: the floor applies)
     */
    public static long firstAskMillis(long waitMillis, long ttlMillis) {
        return Math.max(0, waitMillis) + graceMillis(ttlMillis);
    }

    /**
     * The delay before the next ask after {@code asksSoFar} asks were all answered "queued"; or
     * -1: no ask is left, and the asker gives up.
     */
    public static long nextAskMillis(int asksSoFar) {
        if (asksSoFar < 1) {
            throw new IllegalArgumentException("the first ask is firstAskMillis's, not " + asksSoFar);
        }
        return asksSoFar <= MORE_ASKS ? ASK_INTERVAL_MILLIS : -1;
    }
}
