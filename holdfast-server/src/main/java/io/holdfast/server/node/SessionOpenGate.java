package io.holdfast.server.node;

import io.holdfast.QuotaExceededException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The leader's bound on session opens waiting for the log: at most {@link #MAX_IN_FLIGHT} proposed
 * and not yet answered. An open past it is refused at once with {@link QuotaExceededException}
 * (HTTP 429, gRPC {@code RESOURCE_EXHAUSTED}), before anything is proposed.
 *
 * <p>Guarantees: a refused open changed nothing (no session, no log entry); heartbeats, reads and
 * the other writes never pass through this gate, so the sessions already open are served through a
 * flood of opens (they are queued behind the flood's entries in the log only up to the bound). The
 * bound is the leader's, so it holds wherever the opens arrive (a member forwards them).
 *
 * <p>Does not guarantee fairness between clients: whoever opens while the bound is reached is
 * refused. Nor is it a quota per identity (those are the table's, {@code sessions-per-identity}).
 *
 * <p>Failure story: a deployment rolls 20,000 pods at once and each opens a session on start. The
 * leader proposes the first 1,000, refuses the rest in one line each ("open again after a pause"),
 * the clients' retries spread the rest over the next seconds, and the 100,000 sessions already open
 * keep their heartbeats acknowledged throughout, instead of waiting behind 20,000 entries.
 */
final class SessionOpenGate {
    /**
     * Opens the leader lets wait for the log at once: a few batches of the proposer (a batch is
     * one entry, fsynced once), far above what a steady fleet opens per round trip.
     */
    static final int MAX_IN_FLIGHT = 1000;

    private final int max;
    private final AtomicInteger inFlight = new AtomicInteger();

    SessionOpenGate(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("the bound on session opens in flight must be at least 1: " + max);
        }
        this.max = max;
    }

    /** Takes a place, or says why not (the refusal to answer with); then {@link #leave} once. */
    QuotaExceededException enter() {
        while (true) {
            int now = inFlight.get();
            if (now >= max) {
                return new QuotaExceededException("this leader has " + max
                        + " session opens waiting for the log already: open again after a pause (a flood of opens"
                        + " is refused while the open sessions are served)");
            }
            if (inFlight.compareAndSet(now, now + 1)) {
                return null;
            }
        }
    }

    /** Gives back the place an {@link #enter} took. */
    void leave() {
        inFlight.decrementAndGet();
    }

    /** Opens waiting for the log now. */
    int inFlight() {
        return inFlight.get();
    }
}
