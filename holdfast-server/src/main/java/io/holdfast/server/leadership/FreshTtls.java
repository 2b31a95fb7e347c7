package io.holdfast.server.leadership;

import io.holdfast.core.LockTable;
import io.holdfast.core.SessionTracker;
import java.util.concurrent.TimeUnit;

/**
 * The sessions a new leader still has to track with their fresh TTL ({@link LeaderDuties#start()}):
 * their ids and TTLs as the table held them when the duties thread first looked, and how far the
 * tracking got.
 *
 * <p><b>Guarantees.</b> {@link #trackNext} tracks a session only if the table still holds it and the
 * tracker does not track it yet, with a deadline a TTL from {@link #from}: a session tracked meanwhile
 * (a heartbeat, an opening) keeps its later deadline. Moving it back would let the leader expire a
 * session before the TTL it acknowledged ends. <b>Does not</b> lock anything: the caller holds the
 * state machine's lock for {@link #copy}, and the duties' monitor then that lock for {@link
 * #trackNext}. Not thread-safe.
 */
final class FreshTtls {
    /**
     * Sessions tracked per call of {@link #trackNext}: per hold of the duties' monitor and the state
     * machine's lock, which heartbeats being answered wait for (about 1.5 µs a session, warm).
     */
    static final int CHUNK = 1024;

    /** When the node began to lead, on the duties' ticker: every fresh TTL counts from here. */
    final long from;

    private String[] ids;
    private long[] ttls;
    private int next;

    FreshTtls(long from) {
        this.from = from;
    }

    /** Whether {@link #copy} has run. */
    boolean copied() {
        return ids != null;
    }

    /** Takes the table's sessions and their TTLs (under the state machine's lock). */
    void copy(LockTable table) {
        String[] i = new String[table.sessionCount()];
        long[] t = new long[i.length];
        int[] n = {0};
        table.forEachSessionTtl((id, ttl) -> {
            i[n[0]] = id;
            t[n[0]++] = ttl;
        });
        ttls = t;
        ids = i;
    }

    /**
     * Tracks the next {@value #CHUNK} sessions of the copy that the table still holds and the
     * tracker does not track yet.
     *
     * @return whether sessions remain
     */
    boolean trackNext(LockTable table, SessionTracker tracker) {
        int end = Math.min(ids.length, next + CHUNK);
        for (int i = next; i < end; i++) {
            String id = ids[i];
            if (!tracker.contains(id) && table.hasSession(id)) {
                tracker.touch(id, TimeUnit.MILLISECONDS.toNanos(ttls[i]), from);
            }
        }
        next = end;
        return end < ids.length;
    }
}
