package io.holdfast.core;

import io.holdfast.model.Command;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * The leader's memory of session heartbeats (they are not written to the log). Each heartbeat
 * moves the session's deadline to {@code now + ttl}; {@link #expired(long)} names the sessions
 * whose deadline passed, for the leader to propose {@link Command.ExpireSession}. After a leader
 * change the new leader calls {@link #reset} so that every session gets a fresh TTL before
 * anything expires.
 *
 * <p>Time is whatever monotonic unit the caller uses (nanoseconds of its ticker); no clock is read
 * here. Not thread-safe.
 */
public final class SessionTracker {
    private record Entry(long deadline, String sessionId) {}

    private final Map<String, long[]> sessions = new HashMap<>(); // id -> {deadline, ttl}
    private final PriorityQueue<Entry> queue = new PriorityQueue<>((a, b) -> Long.compare(a.deadline, b.deadline));

    /** Records a heartbeat (or the opening) of a session with the given TTL. */
    public void touch(String sessionId, long ttl, long now) {
        long deadline = now + ttl;
        long[] state = sessions.get(sessionId);
        if (state == null) {
            sessions.put(sessionId, new long[] {deadline, ttl});
        } else {
            state[0] = deadline;
            state[1] = ttl;
        }
        queue.add(new Entry(deadline, sessionId));
    }

    /** Records a heartbeat of a known session; false if the session is not tracked. */
    public boolean touch(String sessionId, long now) {
        long[] state = sessions.get(sessionId);
        if (state == null) {
            return false;
        }
        touch(sessionId, state[1], now);
        return true;
    }

    /** Forgets a session (closed or expired). */
    public void remove(String sessionId) {
        sessions.remove(sessionId);
    }

    /** Whether the session is tracked. */
    public boolean contains(String sessionId) {
        return sessions.containsKey(sessionId);
    }

    /** The sessions whose deadline is at or before {@code now}; they stay tracked until removed. */
    public List<String> expired(long now) {
        List<String> out = new ArrayList<>();
        Entry e;
        while ((e = queue.peek()) != null && e.deadline <= now) {
            queue.poll();
            long[] state = sessions.get(e.sessionId);
            if (state != null && state[0] == e.deadline && !out.contains(e.sessionId)) {
                out.add(e.sessionId);
                queue.add(new Entry(now + state[1], e.sessionId)); // asked again later if still not removed
                state[0] = now + state[1];
            }
        }
        return out;
    }

    /** The session's deadline, or {@link Long#MIN_VALUE} if it is not tracked. */
    public long deadline(String sessionId) {
        long[] state = sessions.get(sessionId);
        return state == null ? Long.MIN_VALUE : state[0];
    }

    /** The earliest deadline of a tracked session, or {@link Long#MAX_VALUE}. */
    public long nextDeadline() {
        Entry e;
        while ((e = queue.peek()) != null) {
            long[] state = sessions.get(e.sessionId);
            if (state != null && state[0] == e.deadline) {
                return e.deadline;
            }
            queue.poll();
        }
        return Long.MAX_VALUE;
    }

    /** Forgets everything and tracks these sessions afresh, each with a full TTL from {@code now}. */
    public void reset(Map<String, Long> ttlBySession, long now) {
        sessions.clear();
        queue.clear();
        ttlBySession.forEach((id, ttl) -> touch(id, ttl, now));
    }

    /** The number of tracked sessions. */
    public int size() {
        return sessions.size();
    }
}
