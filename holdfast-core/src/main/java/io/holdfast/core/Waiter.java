package io.holdfast.core;

import io.holdfast.LockMode;

/**
 * One queued request: linked into its resource's FIFO queue and its session's list of waits. A
 * multi-lock's wait is one waiter per name, linked as a {@link #group}.
 */
final class Waiter {
    final Session session;
    final Resource resource;
    final long owner;
    final long seq;
    final LockMode mode;
    final int permits;
    final long enqueuedAt;
    final long deadline;
    final long leaseMillis;
    boolean attached = true;
    /**
     * The members of the multi-lock this waiter is part of, one per name in name order (this one
     * among them); null for a wait on one name. The members share session, owner, seq, mode and
     * deadline, and leave their queues together.
     */
    Waiter[] group;

    Waiter sPrev;
    Waiter sNext;
    Waiter qPrev;
    Waiter qNext;

    Waiter(
            Session session,
            Resource resource,
            long owner,
            long seq,
            LockMode mode,
            int permits,
            long enqueuedAt,
            long deadline,
            long leaseMillis) {
        this.session = session;
        this.resource = resource;
        this.owner = owner;
        this.seq = seq;
        this.mode = mode;
        this.permits = permits;
        this.enqueuedAt = enqueuedAt;
        this.deadline = deadline;
        this.leaseMillis = leaseMillis;
    }
}
