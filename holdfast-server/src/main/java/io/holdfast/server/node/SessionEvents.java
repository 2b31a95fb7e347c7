package io.holdfast.server.node;

import io.holdfast.SessionExpiredException;
import io.holdfast.core.PositionedLog;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.model.ChangePosition;
import io.holdfast.model.Event;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * The recent events of every session, as this replica applied them: what clients that speak only
 * HTTP read as their event stream, and what their waiting acquires are answered from.
 *
 * <p>Every replica applies the same log and so emits the same events, each at the same position
 * (a {@link ChangePosition}: the log index of its entry and its place among that entry's events,
 * as for the changes watches read). So a client can
 * read its stream at any member and resume at another after a reconnection or a leader change,
 * from the position it had reached, and a wait taken at one member is answered by whichever
 * member it waits at when its entry is applied there.
 *
 * <p><b>Guarantees.</b> {@link #read} returns a session's events after a position in log order,
 * each once (kept in a {@link PositionedLog} per session), or says that it cannot ({@link Page#gap}): when this replica did not apply every
 * entry since that position (it started from a snapshot, or installed one since), or kept only the
 * newest {@value #PER_SESSION} events of the session, or dropped the session's events to keep at
 * most {@value #MAX_SESSIONS} sessions. A gap is never hidden: the reader is then given the
 * session's state instead (see {@link io.holdfast.core.SessionState}). Futures are completed on
 * the executor given, never on the apply thread.
 *
 * <p><b>What it keeps.</b> Every replica applies every session's opening, but a session keeps a
 * buffer here only once it has an event, or when its opening was {@link #expectOpen expected} here
 * (an HTTP client asked this member to open it, and will read its stream here): a session read
 * from nowhere (a gRPC client's) or at another member costs this replica nothing while it has no
 * event. Such a session read here from its beginning is complete as long as this replica has
 * applied every entry and dropped no buffer, and a gap otherwise, with the session's state.
 *
 * <p><b>Does not</b> keep events across a restart, or store anything in the log: positions are the
 * log's own.
 *
 * <p><b>A failure it prevents.</b> A client waits for a lock at the leader; the leadership moves.
 * A wait answered only through that leader's subscription would end with the leadership, and the
 * grant the table made after it would never be told (the lock would sit with the session until
 * its lease ran out). The wait is answered by the event of its entry instead, wherever the client
 * asks again.
 *
 * <p>Thread-safe: the apply thread appends, the HTTP threads read.
 */
public final class SessionEvents {
    /** The most events kept per session: the newest. */
    static final int PER_SESSION = 256;
    /** The most sessions whose events are kept: those with the newest events. */
    static final int MAX_SESSIONS = 100_000;

    /**
     * One event of a session at its position; {@code event} is null for the close of the session
     * by its client (which the table answers without an event).
     */
    public record Item(ChangePosition at, String sessionId, Event event) {
        /** The position right after this event. */
        public ChangePosition next() {
            return new ChangePosition(at.index(), at.ordinal() + 1);
        }
    }

    /**
     * What a read found: the events after the position asked for and the position to ask from
     * next; or a gap, when this replica cannot prove it has every such event.
     */
    public record Page(List<Item> items, ChangePosition next, boolean gap) {}

    private final Executor executor;
    /**
     * The events kept for each session (null for a close), complete from {@link
     * ChangePosition#START} for a session whose opening this replica applied, as long as none of
     * its events was dropped. Insertion order is the order of each session's newest event: the
     * eldest is dropped first.
     */
    private final LinkedHashMap<String, PositionedLog<Event>> buffers = new LinkedHashMap<>();
    /** Long polls waiting for a session's next event. */
    private final Map<String, List<CompletableFuture<Void>>> polls = new java.util.HashMap<>();
    /** Sessions whose opening an HTTP client asked this member for, not applied here yet. */
    private final java.util.Set<String> expected = new java.util.HashSet<>();
    /** Acquires waiting for their outcome, by session id and the acquire's seq. */
    private final Map<String, Map<Long, Outcome>> outcomes = new java.util.HashMap<>();
    /** This replica has applied every entry from here on (since it started or loaded a snapshot). */
    private ChangePosition coveredFrom = ChangePosition.START;
    /** Sessions without a buffer may have had events before this (their buffers were dropped). */
    private ChangePosition droppedUpTo = ChangePosition.START;
    /** The position right after the last entry appended. */
    private ChangePosition appended = ChangePosition.START;

    /** The outcome of one waiting acquire: every event of its seq in one entry (a multi-lock has one per name). */
    private static final class Outcome {
        final CompletableFuture<List<Event>> future = new CompletableFuture<>();
        final List<Event> events = new ArrayList<>(1);
    }

    /** Completes futures on a thread of its own, named for the node. */
    SessionEvents(String selfId) {
        this(java.util.concurrent.Executors.newSingleThreadExecutor(
                DaemonThreads.named("holdfast-session-events-" + selfId)));
    }

    /** @param executor where futures complete (never the apply thread) */
    SessionEvents(Executor executor) {
        this.executor = executor;
    }

    /** Stops the thread this made for itself, if it made one. */
    void close() {
        if (executor instanceof java.util.concurrent.ExecutorService own) {
            own.shutdown();
        }
    }

    /**
     * The table was loaded from a snapshot at {@code index} (at start, or one the leader sent):
     * events before it were never applied here.
     */
    synchronized void loaded(long index) {
        buffers.clear();
        expected.clear(); // the snapshot may hold their openings, which will not be applied here
        coveredFrom = new ChangePosition(index + 1, 0);
        droppedUpTo = coveredFrom;
        appended = coveredFrom;
    }

    /**
     * An HTTP client asks this member to open the session and will read its stream here: when the
     * opening is applied, the session's events are kept from its beginning, so that a reader that
     * starts without a position misses none even after this replica loaded a snapshot. Call it
     * before the opening is sent; {@link #forgetOpen} if it fails.
     */
    public synchronized void expectOpen(String sessionId) {
        expected.add(sessionId);
    }

    /** The opening {@link #expectOpen expected} failed: expect it no longer. */
    public synchronized void forgetOpen(String sessionId) {
        expected.remove(sessionId);
    }

    /**
     * A session was opened: if this member {@link #expectOpen expected} it, its events are kept from
     * its beginning; otherwise nothing is kept until its first event (see the class comment).
     */
    synchronized void opened(String sessionId) {
        if (expected.remove(sessionId) && !buffers.containsKey(sessionId)) {
            // A retried open of a session whose events were dropped must not claim them all.
            put(sessionId, buffer(droppedUpTo.equals(coveredFrom) ? ChangePosition.START : droppedUpTo));
        }
    }

    /**
     * Appends the events of the entry at {@code index}, in order; {@code closed} lists the sessions
     * its client closed in it (after its events). Wakes the readers and the waiting acquires they
     * concern.
     */
    void append(long index, List<List<Event>> events, List<String> closed) {
        List<Runnable> wake = new ArrayList<>();
        synchronized (this) {
            int ordinal = 0;
            List<Decided> decided = new ArrayList<>(0);
            for (List<Event> caused : events) {
                for (Event e : caused) {
                    add(new Item(new ChangePosition(index, ordinal++), e.sessionId(), e), wake, decided);
                }
            }
            for (String id : closed) {
                add(new Item(new ChangePosition(index, ordinal++), id, null), wake, decided);
            }
            ChangePosition after = new ChangePosition(index + 1, 0);
            if (before(appended, after)) {
                appended = after;
            }
            // Every event of a seq is in this entry (a multi-lock's grants come together): answer now.
            for (Decided d : decided) {
                Map<Long, Outcome> bySeq = outcomes.get(d.sessionId());
                Outcome o = bySeq == null ? null : bySeq.remove(d.seq());
                if (o != null) {
                    List<Event> all = List.copyOf(o.events);
                    wake.add(() -> o.future.complete(all));
                    if (bySeq.isEmpty()) {
                        outcomes.remove(d.sessionId());
                    }
                }
            }
        }
        if (!wake.isEmpty()) {
            executor.execute(() -> wake.forEach(Runnable::run));
        }
    }

    /** A wait of the session that an event of the entry being appended decided. */
    private record Decided(String sessionId, long seq) {}

    private static PositionedLog<Event> buffer(ChangePosition complete) {
        return new PositionedLog<>(PER_SESSION, complete);
    }

    private void add(Item item, List<Runnable> wake, List<Decided> decided) {
        String id = item.sessionId();
        PositionedLog<Event> b = buffers.remove(id);
        if (b == null) {
            b = buffer(before(droppedUpTo, coveredFrom) ? coveredFrom : droppedUpTo);
        }
        b.add(item.at().index(), item.at().ordinal(), item.event());
        put(id, b);
        List<CompletableFuture<Void>> waiting = polls.remove(id);
        if (waiting != null) {
            waiting.forEach(f -> wake.add(() -> f.complete(null)));
        }
        Map<Long, Outcome> bySeq = outcomes.get(id);
        if (bySeq == null) {
            return;
        }
        Event event = item.event();
        if (event == null) {
            endWaits(id, bySeq, "was closed", wake);
            return;
        }
        event.accept(Event.Visitor.of(
                granted -> decides(bySeq, id, granted.seq(), granted, decided),
                timedOut -> decides(bySeq, id, timedOut.seq(), timedOut, decided),
                lost -> {}, // a hold, not a wait
                expired -> endWaits(id, bySeq, "expired", wake)));
    }

    /** An event that ends the wait {@code seq} of session {@code id}, if one is awaited here. */
    private static void decides(Map<Long, Outcome> bySeq, String id, long seq, Event e, List<Decided> decided) {
        Outcome o = bySeq.get(seq);
        if (o != null) {
            o.events.add(e);
            decided.add(new Decided(id, seq));
        }
    }

    /** The session ended: every wait of it awaited here fails. */
    private void endWaits(String id, Map<Long, Outcome> bySeq, String why, List<Runnable> wake) {
        outcomes.remove(id);
        bySeq.values()
                .forEach(o -> wake.add(() -> o.future.completeExceptionally(
                        new SessionExpiredException("session " + id + " " + why + " while the request waited"))));
    }

    private void put(String id, PositionedLog<Event> b) {
        buffers.put(id, b);
        if (buffers.size() > MAX_SESSIONS) {
            Iterator<Map.Entry<String, PositionedLog<Event>>> eldest =
                    buffers.entrySet().iterator();
            PositionedLog<Event> dropped = eldest.next().getValue();
            eldest.remove();
            ChangePosition end = dropped.end();
            if (before(droppedUpTo, end)) {
                droppedUpTo = end;
            }
        }
    }

    /**
     * The session's events at or after {@code after} (null: from the session's beginning), or a
     * gap; see the class comment.
     */
    public synchronized Page read(String sessionId, ChangePosition after) {
        PositionedLog<Event> b = buffers.get(sessionId);
        ChangePosition from = after == null ? ChangePosition.START : after;
        List<Item> out = new ArrayList<>();
        boolean complete;
        if (b != null) {
            // A buffer is made after this replica's coverage began: its own mark says it all.
            List<PositionedLog.Positioned<Event>> kept = b.after(from, e -> true, PER_SESSION);
            complete = kept != null;
            if (complete) {
                kept.forEach(p -> out.add(new Item(p.at(), sessionId, p.value())));
            }
        } else {
            // No buffer: no event of the session since this replica's coverage began and its last drop.
            complete = !before(from, coveredFrom) && !before(from, droppedUpTo);
        }
        if (!complete) {
            return new Page(List.of(), appended, true);
        }
        ChangePosition next =
                out.isEmpty() ? max(from, appended) : out.get(out.size() - 1).next();
        return new Page(out, next, false);
    }

    private static ChangePosition max(ChangePosition a, ChangePosition b) {
        return before(a, b) ? b : a;
    }

    private static boolean before(ChangePosition a, ChangePosition b) {
        return a.compareTo(b) < 0;
    }

    /**
     * Completes when the session has an event at or after {@code after} (at once if it has one), or
     * never: the caller times it out. The future is dropped here once completed.
     */
    public synchronized CompletableFuture<Void> nextEvent(String sessionId, ChangePosition after) {
        Page p = read(sessionId, after);
        if (p.gap() || !p.items().isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> f = new CompletableFuture<>();
        polls.computeIfAbsent(sessionId, k -> new ArrayList<>()).add(f);
        return f;
    }

    /** Stops waiting for {@code poll} (it timed out). */
    public synchronized void forgetPoll(String sessionId, CompletableFuture<Void> poll) {
        List<CompletableFuture<Void>> waiting = polls.get(sessionId);
        if (waiting != null) {
            waiting.remove(poll);
            if (waiting.isEmpty()) {
                polls.remove(sessionId);
            }
        }
    }

    /**
     * Completes with the events that decide the acquire with sequence number {@code seq} of the
     * session (its grant, one per name for a multi-lock, or its timeout) as soon as their entry is
     * applied here; fails if the session ends first. Register before the acquire is sent, so that
     * an event that comes before its reply is not missed, and await the future returned then: once
     * decided, the outcome is dropped here, and asking for it again waits for an event that has
     * come and gone. {@link #forget} when it is not needed.
     */
    public synchronized CompletableFuture<List<Event>> outcome(String sessionId, long seq) {
        Outcome o = outcomes.computeIfAbsent(sessionId, k -> new java.util.HashMap<>())
                .computeIfAbsent(seq, k -> new Outcome());
        return o.future;
    }

    /**
     * The session's acquire {@code seq} was withdrawn (a cancel, which the table answers without an
     * event): its outcome, if awaited here, is that its wait ended without a grant.
     */
    public void withdrawn(String sessionId, long seq, String name) {
        Outcome o;
        synchronized (this) {
            Map<Long, Outcome> bySeq = outcomes.get(sessionId);
            o = bySeq == null ? null : bySeq.remove(seq);
        }
        if (o != null) {
            List<Event> decided = List.of(new Event.WaitTimedOut(sessionId, seq, name));
            executor.execute(() -> o.future.complete(decided));
        }
    }

    /** Stops waiting for the outcome of the session's acquire {@code seq}. */
    public synchronized void forget(String sessionId, long seq) {
        Map<Long, Outcome> bySeq = outcomes.get(sessionId);
        if (bySeq != null) {
            bySeq.remove(seq);
            if (bySeq.isEmpty()) {
                outcomes.remove(sessionId);
            }
        }
    }

    /**
     * Fails every acquire waiting here with the error {@code why} makes: this node stopped leading,
     * and the clients should ask the new leader, where their waits go on.
     */
    void failOutcomes(Supplier<? extends Throwable> why) {
        List<Outcome> failed = new ArrayList<>();
        synchronized (this) {
            outcomes.values().forEach(bySeq -> failed.addAll(bySeq.values()));
            outcomes.clear();
        }
        if (!failed.isEmpty()) {
            executor.execute(() -> failed.forEach(o -> o.future.completeExceptionally(why.get())));
        }
    }

    /** How many long polls wait for the session's next event (for tests). */
    public synchronized int pollsWaiting(String sessionId) {
        List<CompletableFuture<Void>> waiting = polls.get(sessionId);
        return waiting == null ? 0 : waiting.size();
    }

    /** How many sessions have events kept (for tests). */
    synchronized int sessionsKept() {
        return buffers.size();
    }
}
