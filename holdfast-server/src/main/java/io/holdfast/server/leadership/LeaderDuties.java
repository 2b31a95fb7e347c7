// Ceiling 430 lines, one idea: what a node does because it leads: the cluster clock, its sessions' fresh TTLs, and the
// expiries and ticks it proposes.
package io.holdfast.server.leadership;

import io.holdfast.Ticker;
import io.holdfast.core.DueCommands;
import io.holdfast.core.LockTable;
import io.holdfast.core.SessionTracker;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import io.holdfast.server.raft.LockStateMachine;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What only the leader does: keep the cluster clock, track session heartbeats, and propose the
 * commands that make deadlines pass ({@link Command.ExpireSession}, {@link Command.Tick}).
 *
 * <p>The cluster clock continues from the table's clock at the moment this node became leader and
 * runs on this node's monotonic ticker; the time between two leaders does not count, so a lease
 * or session never loses time to an election. When this node becomes leader every session gets a
 * fresh TTL before anything can expire: the old leader's heartbeat memory is gone with it.
 */
public final class LeaderDuties implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LeaderDuties.class);
    /** The longest the tracking waits, per chunk, while heartbeats are answered ({@link #answering}). */
    static final long GIVE_WAY_MILLIS = 50;

    private final String nodeId;
    private final Ticker ticker;
    private final LockStateMachine machine;
    private final Function<Command.Envelope, CompletableFuture<Reply>> propose;
    private final SessionTracker tracker = new SessionTracker();
    /** What is due, shared with the in-process node: expiries and ticks, each once in flight. */
    private final DueCommands dues = new DueCommands(tracker);

    private final Thread thread;
    private boolean active;
    private boolean closed;
    /** Set by {@link #wake()} and by answers to what was proposed: look again before waiting. */
    private boolean woken;
    /**
     * While the duties thread waits: the cluster time (ms) at which it looks again by itself;
     * {@link Long#MIN_VALUE} while it works.
     */
    private long sleepingUntil = Long.MIN_VALUE;
    /** The sessions not yet given their fresh TTL since {@link #start()}; null once all are. */
    private FreshTtls fill;
    /** Heartbeats being answered now ({@link #answering}): the tracking gives way to them. */
    private final AtomicInteger answering = new AtomicInteger();
    /** The cluster clock's origin: (table time, ticker reading) when this node became leader. */
    private volatile long[] clockBase = {0, 0};

    public LeaderDuties(
            String nodeId,
            Ticker ticker,
            LockStateMachine machine,
            Function<Command.Envelope, CompletableFuture<Reply>> propose) {
        this.nodeId = nodeId;
        this.ticker = ticker;
        this.machine = machine;
        this.propose = propose;
        this.thread = DaemonThreads.thread(this::run, "holdfast-leader-duties-" + nodeId);
        this.thread.start();
    }

    /**
     * This node's state machine is up to date as leader: start the clock and the timers, and give
     * every session the table holds a fresh TTL from now. Returns at once: the sessions are tracked
     * by the duties thread, {@value FreshTtls#CHUNK} at a time (see {@link #touchAll} for a heartbeat
     * that comes first). At 100,000 sessions tracking them all before answering took 1,115 ms on a
     * new leader restarted 15 s earlier, on a loaded machine (docs/benchmarks.md, 2026-12-04): a
     * second in which it answered no heartbeat and its members' held rounds ran out.
     */
    public synchronized void start() {
        // The table's time and the ticker's, read together: a ticker read before waiting for the
        // state machine's lock would set the cluster clock ahead by that wait.
        long[] base = machine.read(table -> new long[] {table.now(), ticker.nanos()});
        long nanos = base[1];
        clockBase = base;
        tracker.reset(Map.of(), nanos);
        dues.clear();
        active = true;
        fill = new FreshTtls(nanos);
        LOG.info("Node {} leads: its sessions get a fresh TTL from now", nodeId);
        woken = true;
        notifyAll();
    }

    /**
     * Runs {@code answer}, the answer to heartbeats ({@code Heartbeats}), ahead of the tracking that {@link #start()}
     * began: while one runs, that tracking takes no next chunk, for up to {@value #GIVE_WAY_MILLIS} ms of this
     * node's ticker per chunk. Both take this object's monitor and the state machine's lock, which a thread that has
     * just let them go takes again before a waiting one is scheduled: at 100,000 sessions a new leader on a loaded
     * machine answered the heartbeats its relay held only as the tracking ended, 1.2 s after it was ready
     * (docs/benchmarks.md, 2026-12-04). What is answered is unchanged: a heartbeat that comes first keeps its later
     * deadline ({@link FreshTtls}), and the tracking only starts later.
     */
    public <T> T answering(Supplier<T> answer) {
        answering.incrementAndGet();
        try {
            return answer.get();
        } finally {
            answering.decrementAndGet();
        }
    }

    /** Waits while heartbeats are answered, up to {@value #GIVE_WAY_MILLIS} ms (duties thread, holding nothing). */
    private void giveWay() {
        long until = ticker.nanos() + TimeUnit.MILLISECONDS.toNanos(GIVE_WAY_MILLIS);
        while (answering.get() > 0 && ticker.nanos() - until < 0) {
            LockSupport.parkNanos(100_000);
        }
    }

    /**
     * One step of the tracking that {@link #start()} began (duties thread): the first copies the
     * table's sessions, each later one tracks the next {@value FreshTtls#CHUNK} of them
     * ({@link FreshTtls}: never moving back a deadline a heartbeat set meanwhile), after giving way
     * to heartbeats being answered ({@link #answering}).
     *
     * @return whether more steps are due
     */
    private boolean fillStep() {
        giveWay();
        FreshTtls f;
        synchronized (this) {
            f = fill;
            if (f == null || !active) {
                return false;
            }
        }
        if (!f.copied()) {
            machine.read(table -> {
                f.copy(table);
                return null;
            });
            return true;
        }
        synchronized (this) {
            if (fill != f || !active) {
                return false; // stepped down, or a newer start
            }
            if (machine.read(table -> f.trackNext(table, tracker))) {
                return true;
            }
            fill = null;
            LOG.info(
                    "Node {} tracks the heartbeats of its {} sessions ({} ms after it began to lead; it answered"
                            + " heartbeats meanwhile)",
                    nodeId,
                    tracker.size(),
                    TimeUnit.NANOSECONDS.toMillis(ticker.nanos() - f.from));
            return false;
        }
    }

    public synchronized void stop() {
        if (active) {
            LOG.info("Node {} no longer leads", nodeId);
        }
        active = false;
        fill = null;
        tracker.reset(Map.of(), 0);
    }

    public synchronized boolean isActive() {
        return active;
    }

    /**
     * Milliseconds of cluster time; never behind the table's own clock. Takes no lock of its own,
     * so it may be called under the state machine's lock (lock order: duties, then machine).
     */
    public long clusterNow() {
        long[] base = clockBase;
        long tableNow = machine.read(LockTable::now);
        return Math.max(tableNow, base[0] + (ticker.nanos() - base[1]) / 1_000_000);
    }

    /** What became of a heartbeat: see {@link #touch}. */
    public enum Touch {
        /** The session's deadline moved to a TTL from now: the heartbeat may be acknowledged. */
        ACKED,
        /** Its expiry is in flight: the heartbeat must not be acknowledged (it may be applied). */
        EXPIRING,
        /** This node does not lead or does not track the session (expired, closed, just opened). */
        UNTRACKED
    }

    /**
     * A heartbeat, or any request, from a session the table knows. It is decided under the same
     * monitor as what is due, so a session is never both found expired and acknowledged: once
     * its expiry is proposed, heartbeats are {@link Touch#EXPIRING} until the outcome is known
     * (applied: the session is gone; not applied: it is tracked again).
     */
    public synchronized Touch touch(String sessionId) {
        return touchAll(java.util.List.of(sessionId))[0];
    }

    /**
     * A round of heartbeats ({@link #touch} for each, in order) under one hold of this object's
     * monitor: what a member relays for the sessions it serves (ADR 0003).
     */
    public synchronized Touch[] touchAll(java.util.List<String> sessionIds) {
        Touch[] out = new Touch[sessionIds.size()];
        long now = ticker.nanos();
        List<Integer> unknown = null;
        for (int i = 0; i < out.length; i++) {
            String id = sessionIds.get(i);
            if (!active) {
                out[i] = Touch.UNTRACKED;
            } else if (dues.isExpiring(id)) {
                out[i] = Touch.EXPIRING;
            } else if (tracker.touch(id, now)) {
                out[i] = Touch.ACKED;
            } else {
                out[i] = Touch.UNTRACKED;
                if (fill != null) {
                    unknown = unknown == null ? new ArrayList<>() : unknown;
                    unknown.add(i);
                }
            }
        }
        if (unknown != null) {
            // The fill has not reached these yet: a session the table holds gets its TTL from this
            // heartbeat (later than the start, so later than what the fill would give it).
            List<Integer> pending = unknown;
            machine.read(table -> {
                for (int i : pending) {
                    String id = sessionIds.get(i);
                    if (table.hasSession(id)) {
                        tracker.touch(id, TimeUnit.MILLISECONDS.toNanos(table.sessionTtlMillis(id)), now);
                        out[i] = Touch.ACKED;
                    }
                }
                return null;
            });
        }
        return out;
    }

    /**
     * Milliseconds before each session expires unless it sends a heartbeat, as this leader tracks
     * them; sessions it does not track (or every one, when it does not lead) are left out.
     */
    public synchronized Map<String, Long> ttlLeftMillis(java.util.Collection<String> sessionIds) {
        Map<String, Long> out = new HashMap<>();
        if (!active) {
            return out;
        }
        long now = ticker.nanos();
        for (String id : sessionIds) {
            long deadline = tracker.deadline(id);
            if (deadline != Long.MIN_VALUE) {
                out.put(id, Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - now)));
            }
        }
        return out;
    }

    public synchronized void opened(String sessionId, long ttlMillis) {
        if (active) {
            tracker.touch(sessionId, TimeUnit.MILLISECONDS.toNanos(ttlMillis), ticker.nanos());
        }
    }

    public synchronized void ended(String sessionId) {
        tracker.remove(sessionId);
    }

    /** Look again now: the table's deadlines or the sessions' may have changed. */
    synchronized void wake() {
        woken = true;
        notifyAll();
    }

    /**
     * What an applied entry means to the duties: the sessions it opened are tracked (their TTL from
     * now, once this node leads), the ones it closed or expired are not, and then {@link
     * #applied(long)} with its earliest deadline. The one reading of an entry for the node's hooks
     * and a leader rehearsal's ({@link RehearsalMember}).
     */
    public void applied(io.holdfast.server.raft.StateMachineHooks.Applied entry) {
        List<Command.Envelope> commands = entry.commands();
        List<Reply> replies = entry.replies();
        for (int i = 0; i < commands.size() && i < replies.size(); i++) {
            Command c = commands.get(i) == null ? null : commands.get(i).command();
            if (c instanceof Command.OpenSession open && replies.get(i) instanceof Reply.Ok) {
                opened(open.sessionId(), open.ttlMillis());
            } else if (c instanceof Command.CloseSession close && replies.get(i) instanceof Reply.Ok) {
                ended(close.invocation().sessionId());
            }
            if (i < entry.events().size()) {
                for (io.holdfast.model.Event e : entry.events().get(i)) {
                    if (e instanceof io.holdfast.model.Event.SessionExpired expired) {
                        ended(expired.sessionId());
                    }
                }
            }
        }
        applied(entry.nextDeadline());
    }

    /**
     * An entry was applied and the table's earliest deadline is now {@code nextDeadline} (cluster
     * ms, {@link Long#MAX_VALUE} for none). The duties thread is woken only if it sleeps past that
     * deadline: an entry that adds no earlier deadline (almost every acquire and release) costs no
     * thread wake-up. While the thread works, it is told to look again before it sleeps.
     */
    public synchronized void applied(long nextDeadline) {
        if (!active) {
            return; // a follower proposes nothing; start() wakes the thread when it leads
        }
        if (sleepingUntil == Long.MIN_VALUE) {
            woken = true;
        } else if (nextDeadline < sleepingUntil) {
            woken = true;
            notifyAll();
        }
    }

    /**
     * The duties loop. It decides what is due under this object's monitor, and proposes it
     * <b>after letting go</b>: proposing may enter Raft on this thread, and Ratis calls {@link
     * #stop()} while holding its own server lock when this node steps down. Proposing under the
     * monitor deadlocked a stepping-down leader (found by {@code holdfast verify}'s zombie-leader
     * scenario: the node held Ratis's lock forever, answered no vote, and the cluster had no
     * leader); {@code LeaderDutiesTest} reproduces it.
     */
    private void run() {
        while (true) {
            boolean filling;
            try {
                filling = fillStep();
            } catch (RuntimeException e) {
                LOG.warn("Leader duties failed to track the sessions; retrying", e);
                filling = false; // parks, then tries again
            }
            List<Command> due;
            long at = 0;
            long park;
            synchronized (this) {
                if (closed) {
                    return;
                }
                due = new ArrayList<>();
                park = DueCommands.MAX_PARK_MILLIS;
                if (active) {
                    try {
                        DueCommands.Due d =
                                dues.due(ticker.nanos(), clusterNow(), machine.read(LockTable::nextDeadline));
                        due.addAll(d.commands());
                        at = d.time();
                        park = d.parkMillis();
                    } catch (RuntimeException e) {
                        LOG.warn("Leader duties failed; retrying", e);
                    }
                }
            }
            for (Command c : due) {
                propose(at, c);
            }
            synchronized (this) {
                try {
                    if (!woken && !closed && !filling) {
                        long millis = Math.max(1, Math.min(park, DueCommands.MAX_PARK_MILLIS));
                        sleepingUntil = clusterNow() + millis;
                        try {
                            wait(millis);
                        } finally {
                            sleepingUntil = Long.MIN_VALUE;
                        }
                    }
                    woken = false;
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    /** Proposes one due command, outside the monitor; its outcome is noted under it. */
    private void propose(long at, Command c) {
        if (c instanceof Command.ExpireSession x) {
            LOG.info("Session {} sent no heartbeat for its TTL; expiring it", x.sessionId());
        }
        CompletableFuture<Reply> reply;
        try {
            reply = propose.apply(Command.Envelope.of(at, c));
        } catch (RuntimeException e) {
            reply = CompletableFuture.failedFuture(e);
        }
        reply.whenComplete((r, e) -> {
            synchronized (this) {
                dues.done(c, e == null);
                if (!(c instanceof Command.ExpireSession)) {
                    woken = true;
                    notifyAll();
                }
            }
        });
    }

    /** Whether the duties thread is waiting for its next deadline (for tests). */
    synchronized boolean isSleeping() {
        return sleepingUntil != Long.MIN_VALUE;
    }

    @Override
    public synchronized void close() {
        closed = true;
        active = false;
        notifyAll();
    }
}
