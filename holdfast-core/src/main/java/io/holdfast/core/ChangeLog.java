package io.holdfast.core;

import io.holdfast.WatchEvent;
import io.holdfast.WatchTarget;
import io.holdfast.model.ChangePage;
import io.holdfast.model.ChangePosition;
import io.holdfast.model.Command;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The recent changes of a lock table, as this replica applied them: what watches read ({@link
 * io.holdfast.LockClient#watch(WatchTarget, io.holdfast.WatchListener)}).
 *
 * <p>Every replica applies the same log, and the table tells the same changes for each entry
 * ({@link LockTable#apply(Command.Envelope, EventSink, java.util.function.Consumer)}); each change
 * is kept at its {@link ChangePosition}: the index of its entry and its place among that entry's
 * changes. So a watcher can read at any member and resume at another, from the position it
 * reached.
 *
 * <p><b>Guarantees.</b> {@link #read} returns the changes of a target at or after a position, in
 * log order, each once; or says it cannot ({@link ChangePage#gap}) when this replica does not have them
 * all: it started from a snapshot (or installed one) after that position, or let the oldest
 * changes go to keep at most {@value #CAPACITY} changes and {@value #MAX_VALUE_BYTES} bytes of
 * register values. A gap is never hidden; the reader then reads the state afresh.
 *
 * <p><b>Does not</b> keep changes across a restart, nor store anything in the log.
 *
 * <p><b>A failure it prevents.</b> A watcher of {@code jobs/} loses its connection while a holder
 * expires and another is granted, then reconnects to another member. It asks from its position
 * and is told both changes, in order; or, if that member no longer has them, a gap, so it reads
 * the state rather than believe the old holder still holds.
 *
 * <p>Thread-safe: the apply thread appends, readers read from theirs. The futures of {@link
 * #changed} complete on the thread that appends (the apply thread): attach only asynchronous
 * stages to them ({@code io.holdfast.node.ChangePolls} does), never work of your own.
 */
public final class ChangeLog {
    /** The most changes kept: the newest. */
    public static final int CAPACITY = 65_536;
    /** The most bytes of register values kept with them. */
    public static final int MAX_VALUE_BYTES = 16 * 1024 * 1024;
    /** The most changes one read returns. */
    public static final int PAGE = 1_000;

    /** One change at (index, ordinal); kept flat, so that appending allocates one object per change. */
    private record Item(long index, int ordinal, WatchEvent event, int valueBytes) {
        int compareTo(ChangePosition p) {
            return index != p.index() ? Long.compare(index, p.index()) : Integer.compare(ordinal, p.ordinal());
        }
    }

    private final Item[] ring = new Item[CAPACITY];
    private int head;
    private int size;
    private long valueBytes;
    /** Every change from here on is kept (or was, until evicted: see {@link #complete}). */
    private ChangePosition complete = ChangePosition.START;
    /** The position right after the last entry appended. */
    private ChangePosition appended = ChangePosition.START;

    private final List<Poll> polls = new ArrayList<>();

    private record Poll(WatchTarget target, ChangePosition from, CompletableFuture<Void> future) {}

    public ChangeLog() {}

    /**
     * The table was loaded from a snapshot at {@code index}: changes before it were never applied
     * here. Wakes every reader (each will find its gap).
     */
    public void loaded(long index) {
        List<CompletableFuture<Void>> wake;
        synchronized (this) {
            head = 0;
            size = 0;
            valueBytes = 0;
            java.util.Arrays.fill(ring, null);
            complete = new ChangePosition(index + 1, 0);
            appended = complete;
            wake = takeAll();
        }
        wake.forEach(f -> f.complete(null));
    }

    /** Appends the changes of the entry at {@code index}, in order, and wakes the readers they concern. */
    public void append(long index, List<WatchEvent> changes) {
        List<CompletableFuture<Void>> wake = new ArrayList<>(0);
        synchronized (this) {
            ChangePosition after = new ChangePosition(index + 1, 0);
            if (after.compareTo(appended) <= 0) {
                return; // applied before (a replay): kept already, or gone
            }
            for (int i = 0; i < changes.size(); i++) {
                WatchEvent e = changes.get(i);
                add(new Item(index, i, e, e.valueLength()));
            }
            appended = after;
            if (!changes.isEmpty() && !polls.isEmpty()) {
                for (Iterator<Poll> it = polls.iterator(); it.hasNext(); ) {
                    Poll p = it.next();
                    if (p.future.isDone() || changes.stream().anyMatch(e -> concerns(p.target, e))) {
                        it.remove();
                        wake.add(p.future);
                    }
                }
            }
        }
        wake.forEach(f -> f.complete(null));
    }

    private void add(Item item) {
        if (size == CAPACITY) {
            evict();
        }
        ring[(head + size) % CAPACITY] = item;
        size++;
        valueBytes += item.valueBytes;
        while (valueBytes > MAX_VALUE_BYTES && size > 1) {
            evict();
        }
    }

    private void evict() {
        Item gone = ring[head];
        ring[head] = null;
        head = (head + 1) % CAPACITY;
        size--;
        valueBytes -= gone.valueBytes;
        ChangePosition after = new ChangePosition(gone.index, gone.ordinal + 1);
        if (complete.compareTo(after) < 0) {
            complete = after;
        }
    }

    /**
     * The changes of {@code target} at or after {@code from} (at most {@value #PAGE}), or a gap
     * if some of them are no longer here (or never were). A null {@code from} is a gap: the
     * reader starts from the state.
     */
    public synchronized ChangePage read(WatchTarget target, ChangePosition from) {
        if (from == null || from.compareTo(complete) < 0) {
            return new ChangePage(List.of(), appended, true);
        }
        List<WatchEvent> found = new ArrayList<>();
        ChangePosition next = from.compareTo(appended) > 0 ? from : appended;
        for (int i = firstAtOrAfter(from); i < size; i++) {
            Item item = ring[(head + i) % CAPACITY];
            if (concerns(target, item.event)) {
                ChangePosition resume = new ChangePosition(item.index, item.ordinal + 1);
                found.add(item.event.at(resume.toString()));
                if (found.size() == PAGE) {
                    next = resume;
                    break;
                }
            }
        }
        return new ChangePage(found, next, false);
    }

    /**
     * A future that completes when a change of {@code target} at or after {@code from} is
     * appended, or a snapshot is loaded; at once if either happened already. The caller bounds
     * the wait (and may complete it itself).
     */
    public CompletableFuture<Void> changed(WatchTarget target, ChangePosition from) {
        CompletableFuture<Void> future = new CompletableFuture<>();
        synchronized (this) {
            ChangePage now = read(target, from);
            if (now.gap() || !now.events().isEmpty()) {
                future.complete(null);
            } else {
                polls.removeIf(p -> p.future.isDone());
                polls.add(new Poll(target, from, future));
            }
        }
        return future;
    }

    /** The position right after the last entry this replica applied. */
    public synchronized ChangePosition appended() {
        return appended;
    }

    private int firstAtOrAfter(ChangePosition from) {
        int lo = 0;
        int hi = size;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (ring[(head + mid) % CAPACITY].compareTo(from) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private List<CompletableFuture<Void>> takeAll() {
        List<CompletableFuture<Void>> all = new ArrayList<>(polls.size());
        polls.forEach(p -> all.add(p.future));
        polls.clear();
        return all;
    }

    /** Whether a change belongs to a target: a lock change to a lock or prefix watch, a write to its register's. */
    static boolean concerns(WatchTarget target, WatchEvent e) {
        if (e.type() == WatchEvent.Type.REGISTER_SET) {
            return target.kind() == WatchTarget.Kind.REGISTER && target.name().equals(e.name());
        }
        return target.coversLock(e.name());
    }
}
