package io.holdfast.core;

import io.holdfast.model.Reply;
import java.util.HashMap;
import java.util.Map;

/**
 * A session inside the table: its settings, what it holds and waits for, and its recent replies.
 * Every replica keeps one per open session, so it is kept small: an id that {@link CompactId#fits}
 * as two longs, not a string, and names shared with other sessions ({@link SharedNames}): the
 * object is 104 bytes, and an idle session keeps nothing else but its slot in the index.
 */
final class Session implements SessionIndex.Keyed {
    /** The id's bits ({@link CompactId}); both 0 when the id does not fit and is kept as text. */
    final long idHigh;

    final long idLow;
    /**
     * The id as text: always for an id that does not fit; for one that fits, only while the session
     * holds or waits for something (the events and changes of its holds and waits name it).
     */
    private String idText;

    /** The authenticated identity that opened the session; null without authentication. */
    final String identity;

    final String clientName;
    final int ttlMillis;
    final int lockDelayMillis;
    final long openedAt;

    /** Intrusive list of this session's holds, in grant order. */
    Hold holdsHead;

    Hold holdsTail;

    /** Intrusive list of this session's waiters, in queue order of arrival. */
    Waiter waitsHead;

    Waiter waitsTail;

    /*
     * Replies to invocations not yet acknowledged, by seq. A session mostly has one (the reply to
     * its last request, kept until its next request acknowledges it), often for good (an idle
     * session's is its open's): that one is kept here, without a map (a map of one cost 130 bytes
     * more per session, on every replica). Further ones go to the map, which is null unless it has
     * some; the map never has the seq kept here, and nothing is kept here while the map has some.
     */
    private long replySeq;

    private Reply reply;

    private Map<Long, Reply> moreReplies;

    /** Every seq below this has been acknowledged by the client. */
    long ackedBelow;

    /** How many holds and waits the lists above have (derived, for quotas). */
    int holdCount;

    int waitCount;

    /** @param ttlMillis and {@code lockDelayMillis} within {@link Limits}' ranges, which ints hold */
    Session(String id, String identity, String clientName, long ttlMillis, long lockDelayMillis, long openedAt) {
        boolean fits = CompactId.fits(id);
        this.idHigh = fits ? CompactId.high(id) : 0;
        this.idLow = fits ? CompactId.low(id) : 0;
        this.idText = fits ? null : id;
        this.identity = identity;
        this.clientName = clientName;
        this.ttlMillis = Math.toIntExact(ttlMillis);
        this.lockDelayMillis = Math.toIntExact(lockDelayMillis);
        this.openedAt = openedAt;
    }

    @Override
    public long idHigh() {
        return idHigh;
    }

    @Override
    public long idLow() {
        return idLow;
    }

    @Override
    public String idText() {
        return idText;
    }

    /**
     * The session's id, as its client sent it. Made from the bits when asked, and kept while the
     * session holds or waits for something (the events and changes of its holds and waits name it).
     */
    String id() {
        String text = idText;
        if (text == null) {
            text = CompactId.text(idHigh, idLow);
            if (holdsHead != null || waitsHead != null) {
                idText = text;
            }
        }
        return text;
    }

    /** Lets the id's text go when the session holds and waits for nothing (if the id fits). */
    private void idleIfEmpty() {
        if (holdsHead == null && waitsHead == null && compactId()) {
            idText = null;
        }
    }

    Reply cachedReply(long seq) {
        if (reply != null && replySeq == seq) {
            return reply;
        }
        return moreReplies == null ? null : moreReplies.get(seq);
    }

    void remember(long seq, Reply r) {
        java.util.Objects.requireNonNull(r, "reply");
        if (reply == null || replySeq == seq) {
            replySeq = seq;
            reply = r;
            return;
        }
        if (moreReplies == null) {
            moreReplies = new HashMap<>(4);
        }
        moreReplies.put(seq, r);
    }

    /** Replaces the remembered reply of a seq, if it is still remembered. */
    void updateRemembered(long seq, Reply r) {
        if (reply != null && replySeq == seq) {
            reply = r;
        } else if (moreReplies != null) {
            moreReplies.replace(seq, r);
        }
    }

    void acknowledge(long below) {
        if (below <= ackedBelow) {
            return;
        }
        ackedBelow = below;
        if (reply != null && replySeq < below) {
            reply = null;
        }
        if (moreReplies != null) {
            moreReplies.keySet().removeIf(seq -> seq < below);
            if (reply == null && !moreReplies.isEmpty()) {
                // keep one here again: the lowest, so that the order of seqs does not matter
                long lowest = java.util.Collections.min(moreReplies.keySet());
                replySeq = lowest;
                reply = moreReplies.remove(lowest);
            }
            if (moreReplies.isEmpty()) {
                moreReplies = null;
            }
        }
    }

    /** Lets every remembered reply go, acknowledged or not (the planted bug "forgets replies" of the table's tests). */
    void forgetReplies() {
        reply = null;
        moreReplies = null;
    }

    /** Whether a reply that {@code kind} accepts is remembered. */
    boolean remembersAny(java.util.function.Predicate<Reply> kind) {
        return (reply != null && kind.test(reply))
                || (moreReplies != null && moreReplies.values().stream().anyMatch(kind));
    }

    /** The replies remembered, by seq in order (a copy: for snapshots and queries, not the hot path). */
    java.util.SortedMap<Long, Reply> remembered() {
        java.util.TreeMap<Long, Reply> all = new java.util.TreeMap<>();
        if (reply != null) {
            all.put(replySeq, reply);
        }
        if (moreReplies != null) {
            all.putAll(moreReplies);
        }
        return all;
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
        idleIfEmpty();
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
        idleIfEmpty();
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
