package io.holdfast.core;

import io.holdfast.LockMode;

/**
 * A lock or semaphore that is held, waited for, or lock-delayed. It disappears from the table when
 * none of these is true any more.
 */
final class Resource {
    final String name;
    final boolean semaphore;
    final int maxPermits;

    Hold holdersHead;
    Hold holdersTail;
    int holderCount;

    /** Length of the queue (derived, for quotas). */
    int waiterCount;

    int permitsHeld;
    boolean exclusiveHeld;

    Waiter queueHead;
    Waiter queueTail;

    /** Ungrantable before this cluster time (lock-delay after a session expired); 0 if not. */
    long blockedUntil;

    Resource(String name, boolean semaphore, int maxPermits) {
        this.name = name;
        this.semaphore = semaphore;
        this.maxPermits = maxPermits;
    }

    boolean compatible(LockMode mode, int permits) {
        return switch (mode) {
            case EXCLUSIVE -> holderCount == 0;
            case SHARED -> !exclusiveHeld;
            case PERMITS -> permitsHeld + permits <= maxPermits;
        };
    }

    boolean isIdle(long now) {
        return holderCount == 0 && queueHead == null && blockedUntil <= now;
    }

    void addHolder(Hold h) {
        h.rPrev = holdersTail;
        h.rNext = null;
        if (holdersTail == null) {
            holdersHead = h;
        } else {
            holdersTail.rNext = h;
        }
        holdersTail = h;
        holderCount++;
        permitsHeld += h.permits;
        if (h.mode == LockMode.EXCLUSIVE) {
            exclusiveHeld = true;
        }
    }

    void removeHolder(Hold h) {
        if (h.rPrev == null) {
            holdersHead = h.rNext;
        } else {
            h.rPrev.rNext = h.rNext;
        }
        if (h.rNext == null) {
            holdersTail = h.rPrev;
        } else {
            h.rNext.rPrev = h.rPrev;
        }
        h.rPrev = null;
        h.rNext = null;
        holderCount--;
        permitsHeld -= h.permits;
        if (h.mode == LockMode.EXCLUSIVE) {
            exclusiveHeld = false;
        }
    }

    Hold findHolder(Session session, long token) {
        for (Hold h = holdersHead; h != null; h = h.rNext) {
            if (h.token == token && h.session == session) {
                return h;
            }
        }
        return null;
    }

    Hold findHolderByToken(long token) {
        for (Hold h = holdersHead; h != null; h = h.rNext) {
            if (h.token == token) {
                return h;
            }
        }
        return null;
    }

    Hold findHolderOfOwner(Session session, long owner) {
        for (Hold h = holdersHead; h != null; h = h.rNext) {
            if (h.owner == owner && h.session == session) {
                return h;
            }
        }
        return null;
    }

    void enqueue(Waiter w) {
        w.qPrev = queueTail;
        w.qNext = null;
        if (queueTail == null) {
            queueHead = w;
        } else {
            queueTail.qNext = w;
        }
        queueTail = w;
        waiterCount++;
    }

    void dequeue(Waiter w) {
        if (w.qPrev == null) {
            queueHead = w.qNext;
        } else {
            w.qPrev.qNext = w.qNext;
        }
        if (w.qNext == null) {
            queueTail = w.qPrev;
        } else {
            w.qNext.qPrev = w.qPrev;
        }
        w.qPrev = null;
        w.qNext = null;
        waiterCount--;
    }
}
