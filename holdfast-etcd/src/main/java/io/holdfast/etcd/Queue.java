package io.holdfast.etcd;

import io.holdfast.LockMode;
import java.util.ArrayList;
import java.util.List;

/**
 * Who holds and who waits, from the keys under one lock's prefix in creation order. Pure: no I/O.
 *
 * <ul>
 *   <li>An exclusive entry holds when no entry is older.
 *   <li>A shared entry holds when no older entry is exclusive (held or waiting), so a waiting
 *       writer is not overtaken by later readers.
 *   <li>A semaphore entry holds when its permits and those of every older entry fit in the size:
 *       FIFO, so a large request at the head is not overtaken by smaller ones.
 * </ul>
 *
 * Holding is stable: an entry's verdict depends only on older entries, which can only go away. So
 * once an entry holds, it holds until its key is deleted.
 */
final class Queue {
    private Queue() {}

    /** What one entry should do. */
    record Verdict(boolean holds, Entry blocker, Entry conflict) {}

    /**
     * @param entries the keys of one lock, oldest first
     * @param mine the entry to judge (one of {@code entries})
     * @return holds, or the entry whose deletion to wait for ({@code null}: any older one), or a
     *     conflicting entry (a different kind or size for the same name)
     */
    static Verdict judge(List<Entry> entries, Entry mine) {
        Entry lastOlder = null;
        Entry lastOlderExclusive = null;
        long permits = 0;
        for (Entry e : entries) {
            if (e.createRevision() >= mine.createRevision()) {
                break;
            }
            if (e.semaphore() != mine.semaphore() || e.maxPermits() != mine.maxPermits()) {
                return new Verdict(false, null, e);
            }
            lastOlder = e;
            if (e.mode() == LockMode.EXCLUSIVE) {
                lastOlderExclusive = e;
            }
            permits += e.permits();
        }
        return switch (mine.mode()) {
            case EXCLUSIVE -> new Verdict(lastOlder == null, lastOlder, null);
            case SHARED -> new Verdict(lastOlderExclusive == null, lastOlderExclusive, null);
            case PERMITS -> new Verdict(permits + mine.permits() <= mine.maxPermits(), null, null);
        };
    }

    /** The entries that hold, oldest first. */
    static List<Entry> holders(List<Entry> entries) {
        List<Entry> holders = new ArrayList<>();
        for (Entry e : entries) {
            Verdict v = judge(entries, e);
            if (v.holds() && v.conflict() == null) {
                holders.add(e);
            }
        }
        return holders;
    }
}
