package io.holdfast.core;

import io.holdfast.model.Command;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The leader's memory of session heartbeats (they are not written to the log). Each heartbeat
 * moves the session's deadline to {@code now + ttl}; {@link #expired(long)} names the sessions
 * whose deadline passed, for the leader to propose {@link Command.ExpireSession}. After a leader
 * change the new leader calls {@link #reset} so that every session gets a fresh TTL before
 * anything expires.
 *
 * <p>Time is whatever monotonic unit the caller uses (nanoseconds of its ticker); no clock is read
 * here. Not thread-safe.
 *
 * <p><b>What it keeps.</b> One small record per session (its id as bits when it {@link
 * CompactId#fits}, its deadline and TTL, its place in a heap of deadlines), found through a {@link
 * SessionIndex}; a heartbeat moves the record in the heap and allocates nothing. <b>Failure
 * story:</b> a queue of (deadline, id) entries, one more per heartbeat until the superseded ones
 * passed, kept each heartbeat's id string alive with it: 447 bytes per session on the leader after
 * three heartbeats each, where this keeps about 70.
 */
public final class SessionTracker {
    /** One tracked session. */
    private static final class Tracked implements SessionIndex.Keyed {
        final long high;
        final long low;
        /** The id, for one that does not fit in bits; else null. */
        final String text;

        long deadline;
        long ttl;
        /** Its place in {@link #heap}. */
        int at;

        Tracked(String id) {
            long[] bits = new long[2];
            boolean fits = CompactId.parse(id, bits);
            this.high = fits ? bits[0] : 0;
            this.low = fits ? bits[1] : 0;
            this.text = fits ? null : id;
        }

        @Override
        public long idHigh() {
            return high;
        }

        @Override
        public long idLow() {
            return low;
        }

        @Override
        public String idText() {
            return text;
        }

        String id() {
            return text != null ? text : CompactId.text(high, low);
        }
    }

    private final SessionIndex<Tracked> sessions = new SessionIndex<>();
    /** Every tracked session, a binary min-heap on the deadline. */
    private Tracked[] heap = new Tracked[16];

    private int size;

    /** Records a heartbeat (or the opening) of a session with the given TTL. */
    public void touch(String sessionId, long ttl, long now) {
        Tracked t = sessions.get(sessionId);
        if (t == null) {
            t = new Tracked(sessionId);
            t.deadline = now + ttl;
            t.ttl = ttl;
            sessions.add(t);
            push(t);
            return;
        }
        t.ttl = ttl;
        move(t, now + ttl);
    }

    /** Records a heartbeat of a known session; false if the session is not tracked. */
    public boolean touch(String sessionId, long now) {
        Tracked t = sessions.get(sessionId);
        if (t == null) {
            return false;
        }
        move(t, now + t.ttl);
        return true;
    }

    /** Forgets a session (closed or expired). */
    public void remove(String sessionId) {
        Tracked t = sessions.get(sessionId);
        if (t == null) {
            return;
        }
        sessions.remove(t);
        Tracked last = heap[--size];
        heap[size] = null;
        if (last != t) {
            heap[t.at] = last;
            last.at = t.at;
            up(last.at);
            down(last.at);
        }
    }

    /** Whether the session is tracked. */
    public boolean contains(String sessionId) {
        return sessions.get(sessionId) != null;
    }

    /** The sessions whose deadline is at or before {@code now}; they stay tracked until removed. */
    public List<String> expired(long now) {
        List<Tracked> due = new ArrayList<>();
        while (size > 0 && heap[0].deadline <= now) {
            Tracked t = heap[0];
            due.add(t);
            t.deadline = Long.MAX_VALUE; // off the top while the due are collected
            down(0);
        }
        List<String> out = new ArrayList<>(due.size());
        for (Tracked t : due) {
            out.add(t.id());
            move(t, now + t.ttl); // asked again later if still not removed
        }
        return out;
    }

    /** The session's deadline, or {@link Long#MIN_VALUE} if it is not tracked. */
    public long deadline(String sessionId) {
        Tracked t = sessions.get(sessionId);
        return t == null ? Long.MIN_VALUE : t.deadline;
    }

    /** The earliest deadline of a tracked session, or {@link Long#MAX_VALUE}. */
    public long nextDeadline() {
        return size == 0 ? Long.MAX_VALUE : heap[0].deadline;
    }

    /** Forgets everything and tracks these sessions afresh, each with a full TTL from {@code now}. */
    public void reset(Map<String, Long> ttlBySession, long now) {
        sessions.clear();
        Arrays.fill(heap, 0, size, null);
        size = 0;
        ttlBySession.forEach((id, ttl) -> touch(id, ttl, now));
    }

    /** The number of tracked sessions. */
    public int size() {
        return size;
    }

    private void push(Tracked t) {
        if (size == heap.length) {
            heap = Arrays.copyOf(heap, size * 2);
        }
        heap[size] = t;
        t.at = size++;
        up(t.at);
    }

    private void move(Tracked t, long deadline) {
        long was = t.deadline;
        t.deadline = deadline;
        if (deadline < was) {
            up(t.at);
        } else {
            down(t.at);
        }
    }

    private void up(int i) {
        Tracked t = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            Tracked p = heap[parent];
            if (p.deadline <= t.deadline) {
                break;
            }
            heap[i] = p;
            p.at = i;
            i = parent;
        }
        heap[i] = t;
        t.at = i;
    }

    private void down(int i) {
        Tracked t = heap[i];
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            Tracked c = heap[child];
            int right = child + 1;
            if (right < size && heap[right].deadline < c.deadline) {
                child = right;
                c = heap[right];
            }
            if (t.deadline <= c.deadline) {
                break;
            }
            heap[i] = c;
            c.at = i;
            i = child;
        }
        heap[i] = t;
        t.at = i;
    }
}
