package io.holdfast.verify.client;

import io.holdfast.AcquireOptions;
import io.holdfast.Leadership;
import io.holdfast.LockClient;
import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Result;
import io.holdfast.verify.history.StoreWrite;
import io.holdfast.verify.store.ProtectedStore;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client's candidate in leader elections, recorded (phase {@value Workload#PHASE}): the
 * workload of the {@code election} scenario.
 *
 * <p>One thread loops: it picks one of {@link #ELECTIONS} (seeded), campaigns with a short wait
 * (300 ms to 1.5 s), proclaiming its own request id ({@code c1:17}) as its value, and, once
 * elected, does leader work: steps 50 to 150 ms apart, each a write to the unfenced store and then
 * to the fenced one, tagged with the epoch ({@code enter} first, {@code work} after, {@code exit}
 * in the last step), then resigns (releases the leadership's lease, which is what {@code
 * Leadership.resign()} does, waited for at most the bound like every call). Most leaderships last
 * 3 to 20 steps, one in six 20 to 40. The campaign is recorded as the ACQUIRE of the election's
 * lock (token: the epoch), the resignation as its RELEASE, a loss the leadership's {@code onLost}
 * reports as a LOST notice, each step as a WORK notice timed before the leader decided to act, and
 * every true {@code isValid()} as a VALID notice.
 *
 * <p><b>A correct leader</b> (the default) acts only on what it knows: before each step it stops if
 * it was told of a loss or its leadership answers {@code isValid() == false}, and it stops as soon
 * as the fenced store refuses a write (a newer leader wrote); it then resigns all the same. A
 * paused leader may still write late, with its old epoch, which is what the fence is for.
 *
 * <p><b>The planted bug {@value #LEADER_IGNORES_LOSS}</b>: the leader ignores all three (onLost,
 * {@code isValid()}, the store's refusals) and works on until its steps are done, as a leader that
 * trusts its own view does. The harness's records are the same: the loss is still recorded when
 * the client reports it.
 *
 * <p><b>Guarantees.</b> Every invoke gets exactly one completion unless the process dies; no
 * campaign is waited for longer than its wait plus {@code bound} (it is then withdrawn and recorded
 * UNKNOWN NO_ANSWER, and a leadership it won late is resigned at once). {@link #stop()} ends the
 * current leadership with its {@code exit} step and resignation.
 *
 * <p><b>Failure story.</b> The harness SIGSTOPs the process in the middle of a step ({@link
 * #lingerInNextStep}), past the session's TTL. Another candidate is elected with a higher epoch and
 * writes. The process resumes: its step's unfenced write lands behind the new epoch, its fenced
 * write is refused, and it stops leading; the client tells it of the loss.
 */
public final class ElectionWorkload {
    /** The elections every candidate campaigns in. */
    public static final List<String> ELECTIONS = List.of("election-0", "election-1");

    /** The client-side planted bug: a leader that ignores the end of its leadership. */
    public static final String LEADER_IGNORES_LOSS = "leader-ignores-loss";

    /** How long a step lingers when asked to ({@link #lingerInNextStep}). */
    public static final Duration LINGER = Workload.LINGER;

    /** A request to linger that finds no leadership within this long is dropped. */
    static final Duration LINGER_REQUEST_EXPIRES = Duration.ofSeconds(3);

    /** Steps a leadership goes on for at least after a linger: a pause it did not notice. */
    static final int STEPS_AFTER_LINGER = 20;

    private static final Logger LOG = LoggerFactory.getLogger(ElectionWorkload.class);

    private record LingerRequest(Consumer<String> announce, long until) {}

    private final Ops ops;
    private final Recorder rec;
    private final Supplier<LockClient> client;
    private final ProtectedStore fenced;
    private final ProtectedStore unfenced;
    private final Random random;
    private final Duration bound;
    private final boolean ignoresLoss;
    private final AtomicLong operations = new AtomicLong();
    private final AtomicLong leaderships = new AtomicLong();
    private final AtomicLong storeFailures = new AtomicLong();
    private final AtomicReference<LingerRequest> lingerNext = new AtomicReference<>();
    private final ExecutorService campaigner;
    private volatile CountDownLatch lingering;
    private volatile boolean stopping;
    private Thread thread;

    /**
     * @param rec where the process's events go
     * @param client the client to use, asked before every campaign (so it may be replaced)
     * @param fenced the fenced store
     * @param unfenced its unfenced twin
     * @param seed the seed of the choices
     * @param bound how long past its own wait a call may take before it is given up
     * @param ignoresLoss the planted bug {@value #LEADER_IGNORES_LOSS}
     */
    public ElectionWorkload(
            Recorder rec,
            Supplier<LockClient> client,
            ProtectedStore fenced,
            ProtectedStore unfenced,
            long seed,
            Duration bound,
            boolean ignoresLoss) {
        this.ops = new Ops(rec, bound);
        this.rec = rec;
        this.client = client;
        this.fenced = fenced;
        this.unfenced = unfenced;
        this.random = new Random(seed);
        this.bound = bound;
        this.ignoresLoss = ignoresLoss;
        this.campaigner = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "campaign-" + rec.process());
            t.setDaemon(true);
            return t;
        });
    }

    /** Runs the loop on a new daemon thread. @throws IllegalStateException if started before */
    public synchronized void start() {
        if (thread != null) {
            throw new IllegalStateException("the election workload was started already");
        }
        thread = new Thread(this::run, "elections-" + rec.process());
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Asks the loop to stop: the current leadership takes its last step and resigns. Waits for that
     * (interrupting the thread only if it takes far longer than it may). Idempotent.
     */
    public void stop() throws InterruptedException {
        stopping = true;
        cancelLinger();
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null) {
            long longest = 2 * (1_500 + bound.toMillis()) + 1_000;
            t.join(longest);
            if (t.isAlive()) {
                LOG.warn("the election workload did not stop within {} ms; interrupting it", longest);
                t.interrupt();
                t.join();
            }
        }
        campaigner.shutdownNow();
    }

    /**
     * Makes the next step of leader work (in the next leadership, if none is under way) linger for
     * {@link #LINGER} after its decision to act and before its writes, first telling {@code
     * announce} "ELECTION EPOCH": the harness SIGSTOPs the process there. A request that finds no
     * leadership within {@link #LINGER_REQUEST_EXPIRES} is dropped.
     */
    public void lingerInNextStep(Consumer<String> announce) {
        lingerNext.set(new LingerRequest(announce, System.nanoTime() + LINGER_REQUEST_EXPIRES.toNanos()));
    }

    /** Drops a request to linger, and ends a linger under way. */
    public void cancelLinger() {
        lingerNext.set(null);
        CountDownLatch l = lingering;
        if (l != null) {
            l.countDown();
        }
    }

    /** Campaigns started so far. */
    public long operations() {
        return operations.get();
    }

    /** Leaderships won so far. */
    public long leaderships() {
        return leaderships.get();
    }

    /** Store writes that could not reach the store. */
    public long storeFailures() {
        return storeFailures.get();
    }

    private void run() {
        while (!stopping) {
            boolean failed;
            try {
                failed = round();
            } catch (RuntimeException | Error e) {
                LOG.warn("election round failed", e);
                failed = true;
            }
            operations.incrementAndGet();
            try {
                pause(failed ? 50 : random.nextInt(20));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** One campaign and, if elected, one leadership; true if the campaign's outcome is unknown. */
    private boolean round() {
        LockClient c = client.get();
        String election = ELECTIONS.get(random.nextInt(ELECTIONS.size()));
        long waitMillis = 300 + random.nextInt(1201);
        int steps = random.nextInt(6) == 0 ? 20 + random.nextInt(21) : 3 + random.nextInt(18);
        Call.Target target = Call.Target.lock(election);
        Op invoke = rec.record(Workload.PHASE, new Call.Acquire(target, false, waitMillis));
        Leadership leadership;
        try {
            leadership = campaign(c, election, invoke.id(), waitMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            rec.complete(invoke, Ops.INTERRUPTED);
            return true;
        } catch (Exception e) {
            return rec.complete(invoke, Outcomes.ofAcquire(e)) instanceof Result.Unknown;
        }
        Result.Granted elected = rec.complete(invoke, new Result.Granted(leadership.epoch()));
        leaderships.incrementAndGet();
        lead(new Ops.Held(invoke.seq(), target, elected.token(), leadership.lease()), leadership, steps);
        return false;
    }

    /**
     * {@code Election.campaign}, waited for at most its wait plus the bound; a campaign given up is
     * withdrawn (interrupted), and a leadership it still won is resigned.
     */
    private Leadership campaign(LockClient c, String election, String value, long waitMillis) throws Exception {
        AtomicBoolean abandoned = new AtomicBoolean();
        Future<Leadership> f = campaigner.submit(() -> {
            Leadership won =
                    c.election(election).campaign(value, AcquireOptions.waitUpTo(Duration.ofMillis(waitMillis)));
            if (abandoned.get()) {
                won.resign();
                return null;
            }
            return won;
        });
        try {
            return f.get(waitMillis + bound.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            abandoned.set(true);
            if (!f.cancel(true)) { // it finished meanwhile
                try {
                    Leadership late = f.get();
                    if (late != null) {
                        late.resign();
                    }
                } catch (ExecutionException | RuntimeException ignored) {
                    // not elected after all
                }
            }
            throw e;
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }

    /** Leader work for one leadership, then its resignation (recorded). */
    private void lead(Ops.Held held, Leadership leadership, int plannedSteps) {
        String election = held.key();
        long epoch = held.token();
        AtomicBoolean toldLost = new AtomicBoolean();
        leadership.onLost(lost -> {
            if (!ignoresLoss) {
                toldLost.set(true); // before the notice's time is taken: a step after it sees this
            }
            rec.record(
                    Workload.PHASE,
                    new Call.Lost(
                            Call.Target.lock(election), epoch, Outcomes.errorName(lost) + ": " + lost.getMessage()));
        });
        int steps = plannedSteps;
        try {
            for (int i = 0; ; i++) {
                boolean last = i > 0 && (i >= steps || stopping);
                long decided = Recorder.now(); // every check below comes after this moment
                if (!ignoresLoss && toldLost.get()) {
                    break;
                }
                boolean valid = leadership.isValid();
                if (valid) {
                    rec.record(Workload.PHASE, decided, new Call.Valid(Call.Target.lock(election), epoch));
                } else if (!ignoresLoss) {
                    break;
                }
                rec.record(Workload.PHASE, decided, new Call.Work(election, epoch));
                if (lingerIfAsked(election + " " + epoch)) {
                    steps = Math.max(steps, i + STEPS_AFTER_LINGER);
                }
                String phase = i == 0 ? StoreWrite.ENTER : last ? StoreWrite.EXIT : StoreWrite.WORK;
                write(unfenced, held, phase);
                if (!write(fenced, held, phase) && !ignoresLoss) {
                    break; // deposed: a newer leader has written
                }
                if (last) {
                    break;
                }
                pause(50 + random.nextInt(101));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            ops.release(Workload.PHASE, held); // resign
        }
    }

    /** Lingers for {@link #LINGER} if the harness asked; true if it did. */
    private boolean lingerIfAsked(String what) throws InterruptedException {
        CountDownLatch latch = new CountDownLatch(1);
        lingering = latch;
        try {
            LingerRequest asked = lingerNext.getAndSet(null);
            if (asked == null || System.nanoTime() > asked.until()) {
                return false;
            }
            asked.announce().accept(what);
            latch.await(LINGER.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } finally {
            lingering = null;
        }
    }

    /** One write; true if the store accepted it (or could not be reached: nothing is known then). */
    private boolean write(ProtectedStore store, Ops.Held held, String phase) {
        try {
            return store.write(held.key(), held.token(), rec.process(), held.seq(), phase);
        } catch (IOException | RuntimeException e) {
            storeFailures.incrementAndGet();
            LOG.debug("store write {} {} failed", phase, held.key(), e);
            return true;
        }
    }

    private static void pause(long millis) throws InterruptedException {
        if (millis > 0) {
            TimeUnit.MILLISECONDS.sleep(millis);
        }
    }
}
