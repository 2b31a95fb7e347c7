package io.holdfast.verify.history;

/**
 * How long one replica took to catch up after the network healed, as the harness measured it by
 * polling every member's {@code /status} (every few tens of milliseconds, so a time is late by up to
 * one poll and one answer, never early).
 *
 * <p>At {@code healed} (the heal's {@link Fault}) the leader {@code leader} had committed up to log
 * index {@code target} (if no node led at that moment: the first leader seen after it, at {@code
 * leaderSeen}, with its commit index then). At {@code time} the replica {@code node} was first seen with an applied index
 * of at least {@code target}; {@code reached} is the index it showed then. When {@code caughtUp} is
 * false the harness stopped waiting at {@code time}, and {@code reached} is the last applied index
 * the replica showed (-1 if it never answered): it had not caught up by then.
 *
 * @param time when the replica was first seen caught up, or when the harness gave up
 * @param node the replica
 * @param healed when the network was healed ({@link System#nanoTime()} of the harness)
 * @param leader the node whose commit index is the target
 * @param target the leader's commit index at the heal
 * @param reached the replica's applied index at {@code time}
 * @param caughtUp whether {@code reached >= target}
 * @param leaderSeen when the harness first saw {@code leader} lead after the heal; null in records
 *     written before it was kept (then the catch-up counts from the heal)
 */
public record CaughtUp(
        long time,
        String node,
        long healed,
        String leader,
        long target,
        long reached,
        boolean caughtUp,
        Long leaderSeen)
        implements Record {
    /** Milliseconds from the heal to {@code time}. */
    public long millis() {
        return (time - healed) / 1_000_000;
    }

    /**
     * Milliseconds of catching up: from the moment a leader was seen after the heal (the heal, if
     * one led then) to {@code time}. A time without a leader after a heal is an election's, bounded
     * by the {@code availability} checker, not a replica's catching up.
     */
    public long catchUpMillis() {
        long from = leaderSeen == null || leaderSeen - healed < 0 ? healed : leaderSeen;
        return (time - from) / 1_000_000;
    }
}
