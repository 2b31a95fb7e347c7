package io.holdfast.node;

import io.holdfast.LockInfo;
import io.holdfast.Ticker;
import io.holdfast.WatchEvent;
import io.holdfast.WatchTarget;
import io.holdfast.core.ChangeLog;
import io.holdfast.core.DueCommands;
import io.holdfast.core.LockTable;
import io.holdfast.core.SessionTracker;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.model.ChangePage;
import io.holdfast.model.ChangePosition;
import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.LockService;
import io.holdfast.model.RegisterValue;
import io.holdfast.model.Reply;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A lock service inside one JVM: a {@link LockTable} behind a lock, with the duties the server's
 * leader has: stamping commands with cluster time, tracking session heartbeats, applying {@link
 * Command.ExpireSession} and {@link Command.Tick} when deadlines pass (what is due comes from
 * {@link DueCommands}, the server leader's own engine), and delivering events to sessions in the
 * order the table emitted them.
 *
 * <p>Nodes are shared per name within the JVM ({@code mem:} is the node named "default", {@code
 * mem:orders} the node "orders") and live until the JVM exits; their threads are daemons.
 */
public final class LocalNode {
    private static final Map<String, LocalNode> NODES = new ConcurrentHashMap<>();

    private final String name;
    private final LockTable table = new LockTable();
    private final SessionTracker tracker = new SessionTracker();
    /** What is due: the server leader's engine, applied here directly. */
    private final DueCommands dues = new DueCommands(tracker);

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Ticker ticker;
    private final long origin;
    private final Map<String, LockService.Listener> listeners = new ConcurrentHashMap<>();
    private final ExecutorService dispatcher;
    /** The table's recent changes, for watches; positions count the commands applied. */
    private final ChangeLog changes;

    private long applied;

    private LocalNode(String name, Ticker ticker, ScheduledExecutorService timers) {
        this.name = name;
        this.ticker = ticker;
        this.origin = ticker.nanos();
        this.dispatcher = Executors.newSingleThreadExecutor(DaemonThreads.named("holdfast-mem-" + name + "-events"));
        this.changes = new ChangeLog();
        if (timers == null) {
            Thread maintenance = DaemonThreads.thread(this::maintain, "holdfast-mem-" + name + "-timers");
            maintenance.start();
        } else {
            timers.scheduleWithFixedDelay(this::maintainNow, 0, 1, TimeUnit.MILLISECONDS);
        }
    }

    /** The node with this name, created on first use. */
    public static LocalNode named(String name) {
        return NODES.computeIfAbsent(name, n -> new LocalNode(n, Ticker.system(), null));
    }

    /**
     * A node of its own (not shared by name) whose clock is {@code ticker} and whose timers (session
     * expiry, lease timeouts, wait deadlines) run on {@code timers}, every millisecond of their time:
     * with the testkit's fake ticker and manual scheduler, a test moves the node's time as it moves
     * its clients'.
     */
    public static LocalNode inVirtualTime(String name, Ticker ticker, ScheduledExecutorService timers) {
        return new LocalNode(name, ticker, timers);
    }

    public String name() {
        return name;
    }

    /** Cluster time: milliseconds since the node started, from 1. */
    private long clusterMillis() {
        return (ticker.nanos() - origin) / 1_000_000 + 1;
    }

    /** Applies a command in its envelope at the node's time, and queues its events for delivery. */
    public Reply apply(Command command) {
        lock.lock();
        try {
            Reply reply = applyLocked(Command.Envelope.of(clusterMillis(), command));
            changed.signalAll();
            return reply;
        } finally {
            lock.unlock();
        }
    }

    private Reply applyLocked(Command.Envelope envelope) {
        Command command = envelope.command();
        List<Event> events = new ArrayList<>(2);
        List<WatchEvent> changed = new ArrayList<>(2);
        Reply reply = table.apply(envelope, events::add, changed::add);
        changes.append(++applied, changed);
        long now = ticker.nanos();
        if (command instanceof Command.OpenSession open && reply instanceof Reply.Ok) {
            tracker.touch(open.sessionId(), TimeUnit.MILLISECONDS.toNanos(open.ttlMillis()), now);
        } else if (command instanceof Command.CloseSession close && reply instanceof Reply.Ok) {
            tracker.remove(close.invocation().sessionId());
        } else if (command instanceof Command.ClientCommand cc) {
            tracker.touch(cc.invocation().sessionId(), now); // any request is a heartbeat
        }
        for (Event e : events) {
            LockService.Listener listener = listeners.get(e.sessionId());
            if (listener != null) {
                dispatcher.execute(() -> listener.onEvent(e));
            }
        }
        return reply;
    }

    /** A heartbeat. */
    public Reply keepAlive(String sessionId) {
        lock.lock();
        try {
            Reply reply = table.apply(clusterMillis(), new Command.KeepAlive(sessionId), e -> {});
            if (reply instanceof Reply.Ok) {
                tracker.touch(sessionId, ticker.nanos());
            }
            return reply;
        } finally {
            lock.unlock();
        }
    }

    public void subscribe(String sessionId, LockService.Listener listener) {
        listeners.put(sessionId, listener);
    }

    public void unsubscribe(String sessionId) {
        listeners.remove(sessionId);
    }

    /** The changes of a target from a position on: see {@link LockService#changes}. */
    public CompletableFuture<ChangePage> changes(WatchTarget target, ChangePosition from, long waitMillis) {
        return io.holdfast.node.ChangePolls.poll(changes, target, from, waitMillis, dispatcher);
    }

    public Optional<LockInfo> describe(String lockName) {
        lock.lock();
        try {
            return table.describe(lockName, clusterMillis());
        } finally {
            lock.unlock();
        }
    }

    public List<LockInfo> list(String prefix, int limit) {
        lock.lock();
        try {
            return table.list(prefix, limit, clusterMillis());
        } finally {
            lock.unlock();
        }
    }

    public boolean isCurrentHolder(String lockName, long token) {
        lock.lock();
        try {
            return table.isCurrentHolder(lockName, token);
        } finally {
            lock.unlock();
        }
    }

    public Optional<RegisterValue> readRegister(String key) {
        lock.lock();
        try {
            return table.register(key);
        } finally {
            lock.unlock();
        }
    }

    /** One page of keys ({@link LockService#keys}), at the position right after the last change. */
    public io.holdfast.model.KeyPage keys(String prefix, String after, int limit) {
        lock.lock();
        try {
            return table.keys(prefix, after.isEmpty() ? null : after, limit, key -> true, changes.appended());
        } finally {
            lock.unlock();
        }
    }

    /** The timer loop: expires silent sessions and ticks the table when a deadline is due. */
    private void maintain() {
        lock.lock();
        try {
            while (true) {
                long park = applyDue();
                if (park >= 0) {
                    changed.awaitNanos(TimeUnit.MILLISECONDS.toNanos(park));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
    }

    /** One turn of the timers, for a node in virtual time: applies all that is due now. */
    private void maintainNow() {
        lock.lock();
        try {
            while (applyDue() < 0) {
                // applied something: look again, as the loop does
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Applies the commands due now (the lock is held); -1 if there were any, else how long, in
     * milliseconds, nothing more can fall due.
     */
    private long applyDue() {
        DueCommands.Due due = dues.due(ticker.nanos(), clusterMillis(), table.nextDeadline());
        for (Command c : due.commands()) {
            applyLocked(Command.Envelope.of(due.time(), c));
            dues.done(c, true);
        }
        return due.commands().isEmpty() ? due.parkMillis() : -1;
    }
}
