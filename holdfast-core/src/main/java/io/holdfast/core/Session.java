package io.holdfast.core;

import io.holdfast.model.Reply;
import java.util.HashMap;
import java.util.Map;

/** A session inside the table: its settings, what it holds and waits for, and its recent replies. */
final class Session {
    final String id;
    /** The authenticated identity that opened the session; null without authentication. */
    final String identity;

    final String clientName;
    final long ttlMillis;
    final long lockDelayMillis;
    final long openedAt;

    /** Intrusive list of this session's holds, in grant order. */
    Hold holdsHead;

    Hold holdsTail;

    /** Intrusive list of this session's waiters, in queue order of arrival. */
    Waiter waitsHead;

    Waiter waitsTail;

    /** Replies to invocations not yet acknowledged, by seq; null when empty. */
    Map<Long, Reply> replies;

    /** Every seq below this has been acknowledged by the client. */
    long ackedBelow;

    /** How many holds and waits the lists above have (derived, for quotas). */
    int holdCount;

    int waitCount;

    Session(String id, String identity, String clientName, long ttlMillis, long lockDelayMillis, long openedAt) {
        this.id = id;
        this.identity = identity;
        this.clientName = clientName;
        this.ttlMillis = ttlMillis;
        this.lockDelayMillis = lockDelayMillis;
        this.openedAt = openedAt;
    }

    Reply cachedReply(long seq) {
        return replies == null ? null : replies.get(seq);
    }

    void remember(long seq, Reply reply) {
        if (replies == null) {
            replies = new HashMap<>(4);
        }
        replies.put(seq, reply);
    }

    /** Replaces the remembered reply of a seq, if it is still remembered. */
    void updateRemembered(long seq, Reply reply) {
        if (replies != null) {
            replies.replace(seq, reply);
        }
    }

    void acknowledge(long below) {
        if (below <= ackedBelow) {
            return;
        }
        ackedBelow = below;
        if (replies != null) {
            replies.keySet().removeIf(seq -> seq < below);
            if (replies.isEmpty()) {
                replies = null;
            }
        }
    }

    void addHold(Hold h) {
        h.sPrev = holdsTail;
        h.sNext = null;
        if (holdsTail == null) {
            holdsHead = h;
        } else {
            holdsTail.sNext = h;
        }
        holdsTail = h;
        holdCount++;
    }

    void removeHold(Hold h) {
        if (h.sPrev == null) {
            holdsHead = h.sNext;
        } else {
            h.sPrev.sNext = h.sNext;
        }
        if (h.sNext == null) {
            holdsTail = h.sPrev;
        } else {
            h.sNext.sPrev = h.sPrev;
        }
        h.sPrev = null;
        h.sNext = null;
        holdCount--;
    }

    void addWait(Waiter w) {
        w.sPrev = waitsTail;
        w.sNext = null;
        if (waitsTail == null) {
            waitsHead = w;
        } else {
            waitsTail.sNext = w;
        }
        waitsTail = w;
        waitCount++;
    }

    void removeWait(Waiter w) {
        if (w.sPrev == null) {
            waitsHead = w.sNext;
        } else {
            w.sPrev.sNext = w.sNext;
        }
        if (w.sNext == null) {
            waitsTail = w.sPrev;
        } else {
            w.sNext.sPrev = w.sPrev;
        }
        w.sPrev = null;
        w.sNext = null;
        waitCount--;
    }

    Waiter findWait(long seq) {
        for (Waiter w = waitsHead; w != null; w = w.sNext) {
            if (w.seq == seq) {
                return w;
            }
        }
        return null;
    }

    Waiter findWaitOfOwner(long owner) {
        for (Waiter w = waitsHead; w != null; w = w.sNext) {
            if (w.owner == owner) {
                return w;
            }
        }
        return null;
    }
}
