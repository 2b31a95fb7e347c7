package io.holdfast.verify.client;

import io.holdfast.LockClient;
import io.holdfast.Watch;
import io.holdfast.WatchTarget;
import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.KeyValue;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Result;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client's workload of the {@code keys} scenario: money moved between two accounts in
 * transactions, reads of them, and short sessions whose keys must go with their locks (phase
 * {@value Workload#PHASE}). One thread, one operation at a time, choices from a seeded {@link
 * Random}:
 *
 * <ul>
 *   <li>Until a read shows the accounts, a transaction creates {@value #A} and {@value #B} with
 *       {@value #START} each if both are absent.
 *   <li>40%: a transfer of 1 to 20 from one account to the other: both read in one transaction, then
 *       a transaction that, if both are still at the versions read, puts the new values and reads
 *       both again. Half of them hold {@value #LOCK} (a wait of up to 1 s) and add its fence to the
 *       compares; the rest race unfenced. A transfer refused or whose compares failed is tried again
 *       once from a fresh read.
 *   <li>30%: a read: a listing of {@code acct/}, a transaction that reads both, one account, a
 *       listing of {@value #MEMBERS}, or one member's key.
 *   <li>15% (and the first step, and the three after a rejoin): a step of {@link KeyLifetimes}: 8% a
 *       read of the group (joined first), 4% keys deleted by prefix, 3% keys leased to another
 *       session.
 *   <li>15%: a short session: a client of its own takes {@value #MEMBERS_LOCK} (a wait of up to 1
 *       s), puts {@code members/<session>} attached to its session and fenced by that grant; the
 *       process's client reads that key; the session holds 5 to 50 ms, records a VALID notice if its
 *       lease still says so, and closes the client, which ends the session: the key and the grant go
 *       in one step.
 * </ul>
 *
 * <p>It also watches {@value #MEMBERS} and {@value #MEMBERS_LOCK} on the process's client (again
 * on each new client, after a session was lost) and records every change they report (WATCHED
 * notices), so that the checker can hold a key's deletion and its session's release to one log
 * index.
 *
 * <p><b>Guarantees</b> as {@link Workload}'s: every invoke gets one completion unless the process
 * dies; any exception is logged and the loop goes on; {@link #stop} lets the current operation
 * finish and gives back what is held.
 */
public final class KeysWorkload {
    /** The fencing lock of transfers. */
    public static final String LOCK = "keys-lock";

    /** The lock each short session holds while its key lives. */
    public static final String MEMBERS_LOCK = "members-lock";

    /** The accounts. */
    public static final String A = "acct/a";

    public static final String B = "acct/b";

    /** The prefix of the sessions' keys. */
    public static final String MEMBERS = "members/";

    /** What each account starts with. */
    public static final long START = 100;

    private static final Logger LOG = LoggerFactory.getLogger(KeysWorkload.class);

    private final Ops ops;
    private final KeyOps keys;
    private final Supplier<LockClient> client;
    private final Supplier<LockClient> opener;
    private final Random random;
    private final KeyLifetimes lifetimes;
    private final AtomicLong operations = new AtomicLong();
    private final List<String> members = new ArrayList<>();
    private final List<Watch> watches = new ArrayList<>();
    private volatile boolean stopping;
    private volatile boolean created;
    private boolean triedJoin;
    private LockClient watching;
    private Thread thread;

    /**
     * @param rec where the process's events go
     * @param client the process's client, asked before every operation
     * @param opener opens a client of a session of its own, for a short session or a lease
     * @param renewing opens a client that opens a new session after losing one, for the group
     * @param seed the seed of the choices
     * @param bound how long past its wait a call may take
     */
    public KeysWorkload(
            Recorder rec,
            Supplier<LockClient> client,
            Supplier<LockClient> opener,
            Supplier<LockClient> renewing,
            long seed,
            Duration bound) {
        this.ops = new Ops(rec, bound);
        this.keys = new KeyOps(rec);
        this.client = client;
        this.opener = opener;
        this.random = new Random(seed);
        this.lifetimes = new KeyLifetimes(keys, rec.process(), renewing, opener, random);
    }

    /** Runs the workload on a daemon thread. */
    public synchronized void start() {
        if (thread != null) {
            throw new IllegalStateException("the keys workload was started already");
        }
        thread = new Thread(this::run, "keys-" + ops.recorder().process());
        thread.setDaemon(true);
        thread.start();
    }

    /** Stops the loop after the current operation and closes the watches. */
    public void stop() throws InterruptedException {
        stopping = true;
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null) {
            t.join(30_000);
            if (t.isAlive()) {
                t.interrupt();
                t.join();
            }
        }
        unwatch();
        lifetimes.close();
    }

    /** Watches the sessions' keys and lock on {@code c}, the process's client now (again after a new session). */
    private void watch(LockClient c) {
        unwatch();
        watching = c;
        try {
            watches.add(c.keys().watch(MEMBERS, e -> keys.watched(Workload.PHASE, e)));
            watches.add(c.watch(WatchTarget.lock(MEMBERS_LOCK), e -> keys.watched(Workload.PHASE, e)));
        } catch (RuntimeException e) {
            LOG.warn("cannot watch {} and {}: no watched steps until the next session", MEMBERS, MEMBERS_LOCK, e);
        }
    }

    private void unwatch() {
        for (Watch w : watches) {
            try {
                w.close();
            } catch (RuntimeException e) {
                LOG.debug("closing a watch failed", e);
            }
        }
        watches.clear();
    }

    /** Operations started so far. */
    public long operations() {
        return operations.get();
    }

    private void run() {
        while (!stopping) {
            boolean failed;
            try {
                failed = step();
            } catch (RuntimeException | Error e) {
                LOG.warn("keys workload step failed", e);
                failed = true;
            }
            operations.incrementAndGet();
            try {
                TimeUnit.MILLISECONDS.sleep(failed ? 50 : random.nextInt(6));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** One random operation; true if it ended in an UNKNOWN, or the accounts are not there yet (to back off). */
    private boolean step() {
        LockClient c = client.get();
        if (c != watching) {
            watch(c);
        }
        if (!triedJoin) {
            triedJoin = true; // joined first, before the faults; later tries come with the group's reads
            return lifetimes.group(c);
        }
        if (!created) {
            return create(c);
        }
        if (lifetimes.owesRead()) {
            return lifetimes.group(c);
        }
        int r = random.nextInt(100);
        if (r < 40) {
            return random.nextBoolean() ? fencedTransfer(c) : transfer(c, null) instanceof Result.Unknown;
        } else if (r < 70) {
            return read(c) instanceof Result.Unknown;
        } else if (r < 78) {
            return lifetimes.group(c);
        } else if (r < 82) {
            return lifetimes.prefix(c);
        } else if (r < 85) {
            return lifetimes.lease(c);
        }
        return session(c);
    }

    private boolean create(LockClient c) {
        Call.KeyTxn txn = new Call.KeyTxn(
                List.of(KeyValue.absent(A), KeyValue.absent(B)),
                null,
                0,
                List.of(new KeyValue(A, 0, START), new KeyValue(B, 0, START)),
                false,
                List.of(A, B));
        Result r = keys.txn(Workload.PHASE, c, txn, null);
        created = r instanceof Result.Transacted t && t.entries().stream().noneMatch(KeyValue::isAbsent);
        return !created; // backs off until the accounts are there (a service that refuses keys is not hammered)
    }

    private boolean fencedTransfer(LockClient c) {
        Ops.Acquired a = ops.acquire(Workload.PHASE, c, LOCK, Op.Kind.LOCK, 0, false, 1 + random.nextInt(1000), null);
        if (a.held() == null) {
            return a.result() instanceof Result.Unknown;
        }
        try {
            return transfer(c, a.held()) instanceof Result.Unknown;
        } finally {
            ops.release(Workload.PHASE, a.held());
        }
    }

    /** Reads both accounts, then moves money if they are still as read; once more after a conflict. */
    private Result transfer(LockClient c, Ops.Held fence) {
        Result last = null;
        for (int attempt = 0; attempt < 2; attempt++) {
            Result read = keys.txn(Workload.PHASE, c, reads(), null);
            if (!(read instanceof Result.Transacted seen) || seen.entries().size() != 2) {
                return read;
            }
            KeyValue a = seen.entries().get(0);
            KeyValue b = seen.entries().get(1);
            long amount = 1 + random.nextInt(20);
            boolean fromA = random.nextBoolean();
            Call.KeyTxn move = new Call.KeyTxn(
                    List.of(new KeyValue(A, a.version(), 0), new KeyValue(B, b.version(), 0)),
                    fence == null ? null : LOCK,
                    fence == null ? 0 : fence.token(),
                    List.of(
                            new KeyValue(A, 0, fromA ? a.value() - amount : a.value() + amount),
                            new KeyValue(B, 0, fromA ? b.value() + amount : b.value() - amount)),
                    false,
                    List.of(A, B));
            last = keys.txn(Workload.PHASE, c, move, fence == null ? null : fence.lease());
            if (!(last instanceof Result.Refused) && !(last instanceof Result.Transacted t && !t.succeeded())) {
                return last;
            }
        }
        return last;
    }

    private static Call.KeyTxn reads() {
        return new Call.KeyTxn(List.of(), null, 0, List.of(), false, List.of(A, B));
    }

    private Result read(LockClient c) {
        int r = random.nextInt(5);
        String member;
        synchronized (members) {
            member = members.isEmpty() ? null : members.get(random.nextInt(members.size()));
        }
        return switch (r) {
            case 0 -> keys.list(Workload.PHASE, c, "acct/");
            case 1 -> keys.txn(Workload.PHASE, c, reads(), null);
            case 2 -> keys.get(Workload.PHASE, c, random.nextBoolean() ? A : B);
            case 3 -> keys.list(Workload.PHASE, c, MEMBERS);
            default -> member == null ? keys.list(Workload.PHASE, c, MEMBERS) : keys.get(Workload.PHASE, c, member);
        };
    }

    /**
     * A short session of its own: lock, attached key fenced by the grant, a read of the key by the
     * process's client {@code c}, the lease probed, close.
     */
    private boolean session(LockClient c) {
        LockClient s;
        try {
            s = opener.get();
        } catch (RuntimeException e) {
            LOG.debug("cannot open a short session", e);
            return true;
        }
        try {
            Ops.Acquired a = ops.acquire(
                    Workload.PHASE, s, MEMBERS_LOCK, Op.Kind.LOCK, 0, false, 1 + random.nextInt(1000), null);
            if (a.held() == null) {
                return a.result() instanceof Result.Unknown;
            }
            String key = MEMBERS + s.sessionId();
            synchronized (members) {
                members.add(key);
                if (members.size() > 20) {
                    members.remove(0);
                }
            }
            Call.KeyTxn join = new Call.KeyTxn(
                    List.of(),
                    MEMBERS_LOCK,
                    a.held().token(),
                    List.of(new KeyValue(key, 0, a.held().token())),
                    true,
                    List.of());
            Result r = keys.txn(Workload.PHASE, s, join, a.held().lease());
            keys.get(Workload.PHASE, c, key); // while the session holds: the key must be there
            TimeUnit.MILLISECONDS.sleep(5 + random.nextInt(46));
            ops.probe(Workload.PHASE, a.held()); // still held: no read before this may miss the key
            return r instanceof Result.Unknown;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            s.close(); // ends the session: its grant and its key go in one step
        }
    }
}
