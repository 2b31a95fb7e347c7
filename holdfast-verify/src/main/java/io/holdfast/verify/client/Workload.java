package io.holdfast.verify.client;

import io.holdfast.LockClient;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Result;
import io.holdfast.verify.history.StoreWrite;
import io.holdfast.verify.store.ProtectedStore;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client's random workload, recorded operation by operation (phase {@value #PHASE}).
 *
 * <p>One thread runs one operation at a time, chosen by a {@link Random} seeded by the caller (the
 * choices repeat for a seed; the outcomes depend on the run):
 *
 * <ul>
 *   <li>40%: the exclusive lock {@code lock-0}..{@code lock-2}; 20%: the read or write half of
 *       {@code rw-0}; 15%: one permit of the semaphore {@code sem-0} (2 permits). A quarter of the
 *       acquires are tries, the rest wait 100 ms to 2 s; 30% carry a lease timeout of 300 ms to 1.5
 *       s, so that the client's renewal watchdog runs. A grant is held 1 to 30 ms, or one time in
 *       seven 100 to 500 ms (to build queues), then released. Exclusive holds ({@code lock-*} and
 *       the write half of {@code rw-0}) are critical sections: ENTER to the fenced store and to the
 *       unfenced one, the hold, EXIT to both, each with the grant's token and the acquire's seq.
 *   <li>With multi-locks on ({@link #takeMultiLocks}), 15 of the 40% on {@code lock-*} are
 *       multi-locks of two of them, waiting 100 ms to 2 s, recorded as one acquire per lock
 *       (see {@code Ops#acquireAll}), each of whose grants is a critical section as above.
 *   <li>25%: {@code reg-0} or {@code reg-1}: REG_GET, then, if it answered, REG_CAS from the version
 *       read to the value read plus one.
 * </ul>
 *
 * <p>Every grant gets an {@code onLost} listener that records a NOTICE LOST with its token. See
 * {@link Outcomes} for which failure is FAIL and which UNKNOWN.
 *
 * <p><b>Guarantees.</b> Every invoke it writes gets exactly one completion, unless the process
 * dies. No call is waited for longer than its wait plus the {@code bound} given at construction
 * (then it is cancelled and recorded UNKNOWN). Any exception is recorded and the loop goes on. A
 * store write that fails is counted ({@link #storeFailures()}) and not recorded: the stores log
 * what reached them. {@link #stop()} lets the current operation finish, then releases (recorded)
 * anything still held.
 *
 * <p><b>Failure story.</b> The client's session expires during a partition. Every operation then
 * fails at once (UNKNOWN SESSION_EXPIRED); the loop backs off 50 ms after each such failure so the
 * history does not fill with them, and asks the client supplier again before every operation, so
 * a supplier that reopens the client lets the workload continue with a new session.
 */
public final class Workload {
    /** The phase of every event this class records. */
    public static final String PHASE = "workload";

    public static final List<String> LOCKS = List.of("lock-0", "lock-1", "lock-2");
    public static final String RW_LOCK = "rw-0";
    public static final String SEMAPHORE = "sem-0";
    public static final int SEMAPHORE_PERMITS = 2;
    public static final List<String> REGISTERS = List.of("reg-0", "reg-1");

    private static final Logger LOG = LoggerFactory.getLogger(Workload.class);

    private final Ops ops;
    private final Supplier<LockClient> client;
    private final ProtectedStore fenced;
    private final ProtectedStore unfenced;
    private final Random random;
    private final Duration bound;
    private final Set<Ops.Held> held = ConcurrentHashMap.newKeySet();
    private final AtomicLong storeFailures = new AtomicLong();
    private final AtomicLong operations = new AtomicLong();
    private volatile boolean stopping;
    private volatile boolean multiLocks;
    private final java.util.concurrent.atomic.AtomicReference<java.util.function.Consumer<String>> lingerNext =
            new java.util.concurrent.atomic.AtomicReference<>();
    private Thread thread;

    /**
     * @param rec where the process's events go
     * @param client the client to use, asked before every operation (so it may be replaced)
     * @param fenced the fenced store
     * @param unfenced its unfenced twin
     * @param seed the seed of the operation choices
     * @param bound how long past its own wait a call may take before it is given up: the client's
     *     request timeout plus a margin
     */
    public Workload(
            Recorder rec,
            Supplier<LockClient> client,
            ProtectedStore fenced,
            ProtectedStore unfenced,
            long seed,
            Duration bound) {
        this.ops = new Ops(rec, bound);
        this.client = client;
        this.fenced = fenced;
        this.unfenced = unfenced;
        this.random = new Random(seed);
        this.bound = bound;
    }

    /** Runs the workload on a new daemon thread. @throws IllegalStateException if started before */
    public synchronized void start() {
        if (thread != null) {
            throw new IllegalStateException("the workload was started already");
        }
        thread = new Thread(this::run, "workload-" + ops.recorder().process());
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Asks the loop to stop, waits for the current operation to finish (interrupting it only if
     * it takes far longer than any operation may), and releases anything still held. Idempotent;
     * returns at once if never started.
     */
    public void stop() throws InterruptedException {
        stopping = true;
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null) {
            long longest = 2 * (2_000 + bound.toMillis()) + 1_000;
            t.join(longest);
            if (t.isAlive()) {
                LOG.warn("the workload did not stop within {} ms; interrupting it", longest);
                t.interrupt();
                t.join();
            }
        }
        giveBack();
    }

    /** Runs operations on the calling thread until {@link #stop()} is called. */
    public void run() {
        while (!stopping) {
            boolean failed;
            try {
                failed = step();
            } catch (RuntimeException | Error e) {
                LOG.warn("workload step failed", e);
                failed = true;
            }
            operations.incrementAndGet();
            try {
                pause(failed ? 50 : random.nextInt(6));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        giveBack();
    }

    /** How long a critical section lingers after {@link #lingerInNextCriticalSection}. */
    public static final Duration LINGER = Duration.ofSeconds(5);

    /**
     * Makes the next exclusive critical section (on {@code lock-*}) linger for {@link #LINGER}
     * after its ENTER writes, first telling {@code announce} "KEY TOKEN": the harness SIGSTOPs the
     * process then, inside its critical section, so that its EXIT comes late with an old token.
     */
    public void lingerInNextCriticalSection(java.util.function.Consumer<String> announce) {
        lingerNext.set(announce);
    }

    /** The wait of an acquire after {@link #announceNextQueuedWait}: longer than any session TTL of a run. */
    public static final Duration LONG_WAIT = Duration.ofSeconds(8);

    /** A request to queue on a key and say so. */
    private record QueueOn(String key, java.util.function.Consumer<String> announce) {}

    private final java.util.concurrent.atomic.AtomicReference<QueueOn> waitNext =
            new java.util.concurrent.atomic.AtomicReference<>();

    /**
     * Makes the next operation a blocking acquire of {@code key} that waits {@link #LONG_WAIT},
     * telling {@code announce} the key once it is queued (not answered within a moment): the harness
     * SIGSTOPs the process then, so that its session expires with a waiter in that queue. If the
     * acquire is answered at once, the next operation tries again.
     */
    public void announceNextQueuedWait(String key, java.util.function.Consumer<String> announce) {
        waitNext.set(new QueueOn(key, announce));
    }

    /**
     * From now on, part of the exclusive-lock operations are multi-locks of two locks (changes the
     * choices a seed makes; call before {@link #start}).
     */
    public void takeMultiLocks() {
        multiLocks = true;
    }

    /** Store writes that failed (could not reach the store) so far. */
    public long storeFailures() {
        return storeFailures.get();
    }

    /** Operations started so far. */
    public long operations() {
        return operations.get();
    }

    /** Runs one random operation; true if it ended in an UNKNOWN (to back off). */
    private boolean step() {
        LockClient c = client.get();
        QueueOn queueOn = waitNext.getAndSet(null);
        if (queueOn != null) {
            return queueOn(c, queueOn);
        }
        int r = random.nextInt(100);
        if (multiLocks && r < 15) {
            return holdAll(c);
        } else if (r < 40) {
            return hold(c, LOCKS.get(random.nextInt(LOCKS.size())), Op.Kind.LOCK, 0);
        } else if (r < 60) {
            return hold(c, RW_LOCK, random.nextInt(5) < 3 ? Op.Kind.READ : Op.Kind.WRITE, 0);
        } else if (r < 75) {
            return hold(c, SEMAPHORE, Op.Kind.SEMAPHORE, SEMAPHORE_PERMITS);
        } else {
            String key = REGISTERS.get(random.nextInt(REGISTERS.size()));
            if (!(ops.regGet(PHASE, c, key) instanceof Result.RegisterState got)) {
                return true;
            }
            return ops.regCas(PHASE, c, key, got.version(), got.value() + 1) instanceof Result.Unknown;
        }
    }

    private boolean hold(LockClient c, String key, Op.Kind kind, int limit) {
        boolean tryOnly = random.nextInt(4) == 0;
        long waitMillis = 100 + random.nextInt(1901);
        Duration leaseTimeout = random.nextInt(10) < 3 ? Duration.ofMillis(300 + random.nextInt(1201)) : null;
        long holdMillis = random.nextInt(7) == 0 ? 100 + random.nextInt(401) : 1 + random.nextInt(30);
        Ops.Acquired a = ops.acquire(PHASE, c, key, kind, limit, tryOnly, waitMillis, leaseTimeout);
        if (a.held() == null) {
            return a.result() instanceof Result.Unknown;
        }
        Ops.Held h = a.held();
        held.add(h);
        try {
            boolean critical = kind == Op.Kind.LOCK || kind == Op.Kind.WRITE;
            if (critical) {
                writeBoth(h, StoreWrite.ENTER);
            }
            java.util.function.Consumer<String> announce = kind == Op.Kind.LOCK ? lingerNext.getAndSet(null) : null;
            if (announce != null) {
                announce.accept(key + " " + h.token());
                pause(LINGER.toMillis());
            } else {
                pause(holdMillis);
            }
            if (critical) {
                writeBoth(h, StoreWrite.EXIT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (held.remove(h)) {
                ops.release(PHASE, h);
            }
        }
        return false;
    }

    /** A multi-lock of two exclusive locks, each of whose grants is a critical section. */
    private boolean holdAll(LockClient c) {
        int first = random.nextInt(LOCKS.size());
        int second = (first + 1 + random.nextInt(LOCKS.size() - 1)) % LOCKS.size();
        List<String> keys = List.of(LOCKS.get(Math.min(first, second)), LOCKS.get(Math.max(first, second)));
        long waitMillis = 100 + random.nextInt(1901);
        Duration leaseTimeout = random.nextInt(10) < 3 ? Duration.ofMillis(300 + random.nextInt(1201)) : null;
        long holdMillis = random.nextInt(7) == 0 ? 100 + random.nextInt(401) : 1 + random.nextInt(30);
        List<Ops.Acquired> all = ops.acquireAll(PHASE, c, keys, waitMillis, leaseTimeout);
        if (all.get(0).held() == null) {
            return all.get(0).result() instanceof Result.Unknown;
        }
        List<Ops.Held> hs = all.stream().map(Ops.Acquired::held).toList();
        held.addAll(hs);
        try {
            for (Ops.Held h : hs) {
                writeBoth(h, StoreWrite.ENTER);
            }
            pause(holdMillis);
            for (Ops.Held h : hs) {
                writeBoth(h, StoreWrite.EXIT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            for (Ops.Held h : hs) {
                if (held.remove(h)) {
                    ops.release(PHASE, h);
                }
            }
        }
        return false;
    }

    /** A blocking acquire of the requested key that announces itself once queued; held briefly if granted. */
    private boolean queueOn(LockClient c, QueueOn q) {
        java.util.concurrent.atomic.AtomicBoolean announced = new java.util.concurrent.atomic.AtomicBoolean();
        Ops.Acquired a = ops.acquire(PHASE, c, q.key(), Op.Kind.LOCK, 0, false, LONG_WAIT.toMillis(), null, () -> {
            announced.set(true);
            q.announce().accept(q.key());
        });
        if (!announced.get()) {
            waitNext.compareAndSet(null, q); // answered at once: try again next time
        }
        if (a.held() == null) {
            return a.result() instanceof Result.Unknown;
        }
        Ops.Held h = a.held();
        held.add(h);
        try {
            writeBoth(h, StoreWrite.ENTER);
            writeBoth(h, StoreWrite.EXIT);
        } finally {
            if (held.remove(h)) {
                ops.release(PHASE, h);
            }
        }
        return false;
    }

    private void writeBoth(Ops.Held h, String phase) {
        write(fenced, h, phase);
        write(unfenced, h, phase);
    }

    private void write(ProtectedStore store, Ops.Held h, String phase) {
        try {
            store.write(h.key(), h.token(), ops.recorder().process(), h.seq(), phase);
        } catch (IOException | RuntimeException e) {
            storeFailures.incrementAndGet();
            LOG.debug("store write {} {} failed", phase, h.key(), e);
        }
    }

    private void giveBack() {
        for (Ops.Held h : List.copyOf(held)) {
            if (held.remove(h)) {
                ops.release(PHASE, h);
            }
        }
    }

    private static void pause(long millis) throws InterruptedException {
        if (millis > 0) {
            TimeUnit.MILLISECONDS.sleep(millis);
        }
    }
}
