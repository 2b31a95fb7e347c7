package io.holdfast.core;

import io.holdfast.WatchEvent;
import io.holdfast.WatchTarget;
import io.holdfast.model.ChangePage;
import io.holdfast.model.ChangePosition;
import io.holdfast.model.Command;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
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
 * log order, each once (kept in a {@link PositionedLog}); or says it cannot ({@link ChangePage#gap}) when this replica does not have them
 * all: it started from a snapshot (or installed one) after that position, or let the oldest
 * changes go to keep at most {@value #CAPACITY} changes and {@value #MAX_VALUE_BYTES} bytes of
 * register values. A gap is never hidden; the reader then reads the state afresh. Writes and
 * deletes of keys are kept as lock changes are, and read by prefix with {@link #readKeys}.
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

    private final PositionedLog<WatchEvent> changes =
            new PositionedLog<>(CAPACITY, MAX_VALUE_BYTES, WatchEvent::valueLength, ChangePosition.START);
    /** The position right after the last entry appended. */
    private ChangePosition appended = ChangePosition.START;

    /** The waiting polls of one lock or one register, by name: an append looks only at those its changes name. */
    private final Map<String, List<Poll>> lockPolls = new HashMap<>();

    private final Map<String, List<Poll>> registerPolls = new HashMap<>();
    /** The waiting polls of a prefix of locks or keys: an append looks at each. */
    private final List<Poll> prefixPolls = new ArrayList<>();
    /** Polls kept (some may be done: timed out); all are swept when this passes {@link #sweepAt}. */
    private int pollCount;

    private int sweepAt = 1_024;

    private record Poll(WatchTarget target, ChangePosition from, CompletableFuture<Void> future) {}

    public ChangeLog() {}

    /**
     * The table was loaded from a snapshot at {@code index}: changes before it were never applied
     * here. Wakes every reader (each will find its gap).
     */
    public void loaded(long index) {
        List<CompletableFuture<Void>> wake;
        synchronized (this) {
            appended = new ChangePosition(index + 1, 0);
            changes.clear(appended);
            wake = takeAll();
        }
        wake.forEach(f -> f.complete(null));
    }

    /** Appends the changes of the entry at {@code index}, in order, and wakes the readers they concern. */
    public void append(long index, List<WatchEvent> made) {
        List<CompletableFuture<Void>> wake = new ArrayList<>(0);
        synchronized (this) {
            ChangePosition after = new ChangePosition(index + 1, 0);
            if (after.compareTo(appended) <= 0) {
                return; // applied before (a replay): kept already, or gone
            }
            for (int i = 0; i < made.size(); i++) {
                changes.add(index, i, made.get(i));
            }
            appended = after;
            if (!made.isEmpty() && pollCount > 0) {
                for (WatchEvent e : made) {
                    List<Poll> named = (isKeyChange(e) ? registerPolls : lockPolls).remove(e.name());
                    if (named != null) {
                        pollCount -= named.size();
                        named.forEach(p -> wake.add(p.future));
                    }
                }
                for (Iterator<Poll> it = prefixPolls.iterator(); it.hasNext(); ) {
                    Poll p = it.next();
                    if (p.future.isDone() || made.stream().anyMatch(e -> concerns(p.target, e))) {
                        it.remove();
                        pollCount--;
                        wake.add(p.future);
                    }
                }
            }
        }
        wake.forEach(f -> f.complete(null));
    }

    /**
     * The changes of {@code target} at or after {@code from} (at most {@value #PAGE}, and at most
     * {@link Limits#MAX_KEY_PAGE_BYTES} of values unless one change alone is larger), or a gap
     * if some of them are no longer here (or never were). A null {@code from} is a gap: the
     * reader starts from the state.
     */
    public synchronized ChangePage read(WatchTarget target, ChangePosition from) {
        return read(e -> concerns(target, e), from);
    }

    /**
     * The writes and deletes of keys that start with {@code prefix} ("": every key) at or after
     * {@code from}, as {@link #read} answers a target's: what a prefix watch of keys follows (a
     * delete says why: a client's delete, its session ended, its time to live passed); not the
     * changes of elections' records ({@link ElectionRecords}).
     */
    public synchronized ChangePage readKeys(String prefix, ChangePosition from) {
        return read(e -> isKeyChange(e) && e.name().startsWith(prefix) && ElectionRecords.concernsKeys(e), from);
    }

    private ChangePage read(java.util.function.Predicate<WatchEvent> wanted, ChangePosition from) {
        List<PositionedLog.Positioned<WatchEvent>> found = from == null ? null : changes.after(from, wanted, PAGE);
        if (found == null) {
            return new ChangePage(List.of(), appended, true);
        }
        List<WatchEvent> events = new ArrayList<>(found.size());
        long bytes = 0;
        for (PositionedLog.Positioned<WatchEvent> p : found) {
            int size = p.value().valueLength();
            if (!events.isEmpty() && bytes + size > Limits.MAX_KEY_PAGE_BYTES) {
                // A page fits a frame: the rest is the next read's, from right after the last one here.
                return new ChangePage(events, found.get(events.size() - 1).next(), false);
            }
            events.add(p.value().at(p.next().toString()));
            bytes += size;
        }
        ChangePosition next =
                found.size() == PAGE ? found.get(PAGE - 1).next() : from.compareTo(appended) > 0 ? from : appended;
        return new ChangePage(events, next, false);
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
                keep(new Poll(target, from, future));
            }
        }
        return future;
    }

    /** The position right after the last entry this replica applied. */
    public synchronized ChangePosition appended() {
        return appended;
    }

    /**
     * Keeps a waiting poll where an append finds it by its target's name (a lock's, a register's) or, for a
     * prefix, in the list every append looks through. Polls that ended without a change (their wait ran out) are
     * dropped in a sweep of all once their number has doubled since the last: keeping one costs O(1) amortized,
     * whatever the number of watchers.
     */
    private void keep(Poll poll) {
        switch (poll.target.kind()) {
            case LOCK ->
                lockPolls
                        .computeIfAbsent(poll.target.name(), n -> new ArrayList<>(1))
                        .add(poll);
            case REGISTER ->
                registerPolls
                        .computeIfAbsent(poll.target.name(), n -> new ArrayList<>(1))
                        .add(poll);
            default -> prefixPolls.add(poll);
        }
        if (++pollCount >= sweepAt) {
            pollCount = sweep(lockPolls) + sweep(registerPolls);
            prefixPolls.removeIf(p -> p.future.isDone());
            pollCount += prefixPolls.size();
            sweepAt = Math.max(1_024, 2 * pollCount);
        }
    }

    /** Drops the done polls of every name (and names left without any); returns how many are left. */
    private static int sweep(Map<String, List<Poll>> byName) {
        int left = 0;
        for (Iterator<List<Poll>> it = byName.values().iterator(); it.hasNext(); ) {
            List<Poll> polls = it.next();
            polls.removeIf(p -> p.future.isDone());
            if (polls.isEmpty()) {
                it.remove();
            }
            left += polls.size();
        }
        return left;
    }

    private List<CompletableFuture<Void>> takeAll() {
        List<CompletableFuture<Void>> all = new ArrayList<>(pollCount);
        for (Map<String, List<Poll>> byName : List.of(lockPolls, registerPolls)) {
            byName.values().forEach(polls -> polls.forEach(p -> all.add(p.future)));
            byName.clear();
        }
        prefixPolls.forEach(p -> all.add(p.future));
        prefixPolls.clear();
        pollCount = 0;
        return all;
    }

    /**
     * Whether a change belongs to a target: a lock change to a lock or prefix watch, a write or a
     * delete to its register's and to a watch of keys of its prefix, but an election record's to
     * its register's only ({@link ElectionRecords}).
     */
    static boolean concerns(WatchTarget target, WatchEvent e) {
        if (isKeyChange(e)) {
            return target.kind() == WatchTarget.Kind.REGISTER
                    ? target.name().equals(e.name())
                    : target.kind() == WatchTarget.Kind.KEYS
                            && e.name().startsWith(target.name())
                            && ElectionRecords.concernsKeys(e);
        }
        return target.coversLock(e.name());
    }

    private static boolean isKeyChange(WatchEvent e) {
        return e.type() == WatchEvent.Type.REGISTER_SET || e.type() == WatchEvent.Type.REGISTER_DELETED;
    }
}
