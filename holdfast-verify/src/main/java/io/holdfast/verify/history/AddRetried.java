package io.holdfast.verify.history;

/**
 * An addition of a member that the harness interrupted by SIGKILLing the leader it was asked of, and
 * what became of it: the harness waits for another node to lead, then asks that leader again (and
 * again, while the answer is a failure) until the node is a member or a minute has passed since the
 * election.
 *
 * @param time when the node was first seen a member, or when the harness gave up
 * @param node the node being added
 * @param interrupted when the leader was killed ({@link System#nanoTime()} of the harness)
 * @param killed the leader that was killed
 * @param elected when the harness first saw another node lead, late by up to one poll (-1: no node
 *     led while it waited)
 * @param retries how often the addition was asked again after the kill (0: it had completed before)
 * @param completed whether the node was a member at {@code time}
 * @param answer the last answer to the addition (or how the harness found it completed)
 */
public record AddRetried(
        long time,
        String node,
        long interrupted,
        String killed,
        long elected,
        int retries,
        boolean completed,
        String answer)
        implements Record {
    /** Milliseconds from the election (or, when no node led, from the kill) to {@code time}. */
    public long millisAfterElection() {
        return (time - (elected < 0 ? interrupted : elected)) / 1_000_000;
    }
}
