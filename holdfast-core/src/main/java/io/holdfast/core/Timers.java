package io.holdfast.core;

import java.util.Comparator;
import java.util.PriorityQueue;

/**
 * The deadlines of the table (lease timeouts, wait deadlines, lock-delays), in a priority queue
 * with lazy deletion: a renewed lease or a granted waiter leaves its old entry behind, and an entry
 * counts only if it still matches its target. The queue is derived state, rebuilt from the table
 * after a restore; its order is total over (time, kind, key, number) so that every replica expires
 * the same things in the same order.
 */
final class Timers {
    static final int LEASE = 0;
    static final int WAIT = 1;
    static final int UNBLOCK = 2;

    record Entry(long at, int kind, String key, long num, Object target) {}

    private static final Comparator<Entry> ORDER = Comparator.comparingLong(Entry::at)
            .thenComparingInt(Entry::kind)
            .thenComparing(Entry::key)
            .thenComparingLong(Entry::num);

    private final PriorityQueue<Entry> queue = new PriorityQueue<>(ORDER);

    void lease(Hold h) {
        if (h.leaseDeadline != Long.MAX_VALUE) {
            queue.add(new Entry(h.leaseDeadline, LEASE, h.resource.name, h.token, h));
        }
    }

    void wait(Waiter w) {
        queue.add(new Entry(w.deadline, WAIT, w.session.id(), w.seq, w));
    }

    void unblock(Resource r) {
        queue.add(new Entry(r.blockedUntil, UNBLOCK, r.name, 0, r));
    }

    static boolean live(Entry e) {
        return switch (e.kind) {
            case LEASE -> ((Hold) e.target).attached && ((Hold) e.target).leaseDeadline == e.at;
            case WAIT -> ((Waiter) e.target).attached;
            default -> ((Resource) e.target).blockedUntil == e.at;
        };
    }

    /** The earliest live deadline, or {@link Long#MAX_VALUE}; drops dead entries on the way. */
    long next() {
        Entry e;
        while ((e = queue.peek()) != null && !live(e)) {
            queue.poll();
        }
        return e == null ? Long.MAX_VALUE : e.at;
    }

    /** Removes and returns the earliest live entry due at or before {@code now}, or null. */
    Entry pollDue(long now) {
        return next() <= now ? queue.poll() : null;
    }

    int size() {
        return queue.size();
    }
}
