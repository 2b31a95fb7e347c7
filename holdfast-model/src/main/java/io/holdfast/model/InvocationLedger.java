package io.holdfast.model;

import java.util.Objects;
import java.util.TreeSet;

/**
 * The sequence numbers of one session's changing requests, on the side that sends them: the
 * client runtime for its own session, the HTTP front of a node for the sessions of clients that
 * speak only HTTP. One engine for both, so the rule the table relies on is written once.
 *
 * <p><b>Guarantees.</b> Numbers are handed out in increasing order, never twice. Every {@link
 * Command.Invocation} carries {@code ackedBelow}: the lowest number whose request is still
 * outstanding here (begun and not {@linkplain #end ended}), this one included. The table may
 * forget the remembered replies of every number below it, so a number is outstanding from
 * before its request is built until its final outcome is known; a re-send of the same
 * invocation is then answered from the table's memory, never applied twice.
 *
 * <p><b>Does not guarantee</b> that numbers are dense (a request built and never sent still uses
 * its number) or that anything is sent: the caller sends, re-sends and ends.
 *
 * <p><b>A failure it prevents.</b> Two threads build requests at once: if the second could take a
 * higher number and compute {@code ackedBelow} before the first number was outstanding, it would
 * tell the table to forget the first request's reply before that request was even sent, and a
 * retry of the first after a lost reply would be applied twice. {@link #begin} takes the number
 * and makes it outstanding in one step.
 *
 * <p>Thread-safe.
 */
public final class InvocationLedger {
    private final String sessionId;
    private final TreeSet<Long> outstanding = new TreeSet<>();
    private long next;

    /**
     * @param sessionId the session whose requests these are
     * @param first the first number to hand out, at least 1
     */
    public InvocationLedger(String sessionId, long first) {
        this.sessionId = Objects.requireNonNull(sessionId, "sessionId");
        if (first < 1) {
            throw new IllegalArgumentException("the first sequence number must be at least 1, not " + first);
        }
        this.next = first;
    }

    /** The session these numbers belong to. */
    public String sessionId() {
        return sessionId;
    }

    /** Takes the next number, outstanding until {@link #end}; its invocation acknowledges below it. */
    public synchronized Command.Invocation begin() {
        return begin(next);
    }

    /**
     * Takes the next number, or {@code atLeast} if that is higher (the numbers skip ahead to it),
     * outstanding until {@link #end}. For a sender that is one of several numbering the same
     * session, each from a clock they share (the members of a cluster numbering an HTTP client's
     * requests from the cluster's time): a session that moves between them keeps rising numbers.
     */
    public synchronized Command.Invocation begin(long atLeast) {
        next = Math.max(next, atLeast);
        long seq = next++;
        outstanding.add(seq);
        return new Command.Invocation(sessionId, seq, outstanding.first());
    }

    /** The request numbered {@code seq} has its final outcome (or will never be sent again). */
    public synchronized void end(long seq) {
        outstanding.remove(seq);
    }

    /** How many numbers are outstanding. */
    public synchronized int outstanding() {
        return outstanding.size();
    }
}
