package io.holdfast.server.node;

import io.holdfast.UnavailableException;
import java.util.concurrent.TimeUnit;

/**
 * How long a member's relay ({@link SessionRelay}) has had rounds without a leader's verdict, and
 * what it tells a client whose heartbeat it gives up on: the relay's memory of an outage.
 *
 * <p><b>Guarantees.</b> The outage counts from the first round without verdicts since the last one
 * with, not from that last answer: a member without clients sends no round, and counting its idle
 * minutes cut it off at its first unanswered round (an election) and sent away the clients that had
 * just moved to it. The messages name the member and the last round's failure, in one line.
 *
 * <p><b>Does not</b> lock: the relay calls it under its own lock.
 */
final class RelayOutage {
    private final String nodeId;
    private final long cutOffNanos;
    /** Why the last round got no verdicts; null after one that did. */
    private String lastFailure;
    /** When the first round without verdicts since the last answer left (while {@link #lastFailure} is set). */
    private long sinceNanos;
    /** Rounds without verdicts since the last one with. */
    private int failedRounds;

    /** What an answer after an outage ended: for the relay's log line. */
    record Ended(int failedRounds, String lastFailure, long afterMillis) {}

    RelayOutage(String nodeId, long cutOffMillis) {
        this.nodeId = nodeId;
        this.cutOffNanos = TimeUnit.MILLISECONDS.toNanos(cutOffMillis);
    }

    /** A round that left at {@code sentNanos} got no verdicts, because of {@code why}. */
    void roundFailed(long sentNanos, String why) {
        if (lastFailure == null) {
            sinceNanos = sentNanos;
        }
        lastFailure = why;
        failedRounds++;
    }

    /** A leader answered: the outage, if any, is over. */
    Ended answered(long now) {
        Ended ended = new Ended(failedRounds, lastFailure, TimeUnit.NANOSECONDS.toMillis(now - sinceNanos));
        lastFailure = null;
        failedRounds = 0;
        return ended;
    }

    /** Whether no verdict came for longer than the cut-off since the first round without one left. */
    boolean isCutOff(long now) {
        return lastFailure != null && now - sinceNanos > cutOffNanos;
    }

    /** What a heartbeat refused at once, while cut off, is told. */
    UnavailableException cutOff(long now) {
        long since = TimeUnit.NANOSECONDS.toMillis(now - sinceNanos);
        return new UnavailableException("member " + nodeId + " has had no answer from a leader for " + since
                + " ms (" + lastFailure
                + "): it may be cut off from the majority; send the heartbeat to another member");
    }

    /**
     * What heartbeats held past their hold are told, given what the round they waited for was doing.
     * Not "no answer for so long" from the last answer alone: a relay without clients sends no round,
     * so a member idle for a minute had "no answer" for a minute (stop 86's CI log read "no answer
     * from a leader for 18260 ms" of a round 2 s late on a loaded machine).
     *
     * @param inFlightForNanos how long the round in flight has been out; negative when none is
     */
    UnavailableException late(long inFlightForNanos) {
        String round = inFlightForNanos < 0
                ? "it waited for the next round"
                : "its round has been out for " + TimeUnit.NANOSECONDS.toMillis(inFlightForNanos) + " ms";
        return new UnavailableException(
                "member " + nodeId + " had no verdict from a leader within the heartbeat's hold ("
                        + round + (lastFailure == null ? "" : "; the last round without verdicts: " + lastFailure)
                        + "): send the heartbeat to another member");
    }
}
