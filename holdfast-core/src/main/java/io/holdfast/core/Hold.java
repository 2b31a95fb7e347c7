package io.holdfast.core;

import io.holdfast.LockMode;

/** One grant: linked into its session's list and its resource's list of holders. */
final class Hold {
    final Session session;
    final Resource resource;
    final long owner;
    final long token;
    final LockMode mode;
    final int permits;
    final long grantedAt;
    final long leaseMillis;
    long leaseDeadline;
    boolean attached = true;

    Hold sPrev;
    Hold sNext;
    Hold rPrev;
    Hold rNext;

    Hold(
            Session session,
            Resource resource,
            long owner,
            long token,
            LockMode mode,
            int permits,
            long grantedAt,
            long leaseMillis) {
        this.session = session;
        this.resource = resource;
        this.owner = owner;
        this.token = token;
        this.mode = mode;
        this.permits = permits;
        this.grantedAt = grantedAt;
        this.leaseMillis = leaseMillis;
        this.leaseDeadline = leaseMillis == 0 ? Long.MAX_VALUE : grantedAt + leaseMillis;
    }
}
