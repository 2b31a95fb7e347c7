package io.holdfast.server.node;

import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A backlog that a member's relay ({@link SessionRelay}) drains in several rounds back to back (more
 * than {@value SessionRelay#MAX_ROUND_SESSIONS} sessions waiting, as after a leader's death), and the
 * one line that says how long the drain took once it is done: the rounds, the sessions, the whole
 * time and the slowest round. The last sessions of a backlog are answered last; this line is how an
 * operator sees that wait.
 *
 * <p><b>Does not</b> lock: the relay calls it from its sender, one round at a time.
 */
final class RelayBacklog {
    private static final Logger LOG = LoggerFactory.getLogger(SessionRelay.class);
    /** A drain at least this long is logged at INFO (a client's heartbeat waited that long), a shorter one at DEBUG. */
    static final long SLOW_MILLIS = 1000;

    /** When the drain's first round left; -1 while no drain runs. */
    private long sinceNanos = -1;

    private int rounds;
    private long sessions;
    private long slowestNanos;

    /**
     * A round of {@code size} sessions that left at {@code sentNanos} was answered at {@code now};
     * {@code more}: another round leaves at once. Logs one line (as the relay; at INFO when
     * the drain took {@value #SLOW_MILLIS} ms or more) when this answer ends a drain, and returns
     * it; null otherwise.
     */
    String answered(String nodeId, int size, long sentNanos, long now, boolean more) {
        if (sinceNanos < 0 && !more) {
            return null; // a round alone: no backlog
        }
        if (sinceNanos < 0) {
            sinceNanos = sentNanos;
        }
        rounds++;
        sessions += size;
        slowestNanos = Math.max(slowestNanos, now - sentNanos);
        if (more) {
            return null;
        }
        String line = String.format(
                java.util.Locale.ROOT,
                "Node %s relayed a backlog of %,d sessions' heartbeats in %d rounds over %,d ms (the slowest round %,d"
                        + " ms): the last of them waited that long for the leader's verdict",
                nodeId,
                sessions,
                rounds,
                TimeUnit.NANOSECONDS.toMillis(now - sinceNanos),
                TimeUnit.NANOSECONDS.toMillis(slowestNanos));
        if (now - sinceNanos >= TimeUnit.MILLISECONDS.toNanos(SLOW_MILLIS)) {
            LOG.info(line);
        } else {
            LOG.debug(line);
        }
        sinceNanos = -1;
        rounds = 0;
        sessions = 0;
        slowestNanos = 0;
        return line;
    }
}
