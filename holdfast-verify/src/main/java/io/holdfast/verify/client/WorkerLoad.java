package io.holdfast.verify.client;

import io.holdfast.LockClient;
import io.holdfast.verify.history.Result;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The load a client worker runs in the background ({@link ClientMain}'s {@code start} and {@code
 * stop}): one of the intruder ({@link ClientMain.Setup#intruderService()} set), the {@link
 * ElectionWorkload} with an {@link ElectionObserver} per observed election, the {@link KeysWorkload},
 * or the plain {@link Workload}, as the {@link ClientMain.Setup} says. It also carries the harness's
 * cues to the running load ({@code hold-next}, {@code wait-next}, {@code lead-next}, {@code
 * lead-cancel}). At most one load runs; after {@link #stop()} a {@link #start()} starts a new one
 * (same seed). Driven from the command loop's one thread.
 */
final class WorkerLoad {
    private static final Logger LOG = LoggerFactory.getLogger(WorkerLoad.class);

    private final ClientMain.Setup setup;
    private final Recorder rec;
    private final Supplier<LockClient> client;
    private Workload workload;
    private ElectionWorkload elections;
    private KeysWorkload keys;
    private final List<ElectionObserver> observers = new ArrayList<>();
    private Intruder intruder;

    /** @param client the worker's current client (a new one after its session expired) */
    WorkerLoad(ClientMain.Setup setup, Recorder rec, Supplier<LockClient> client) {
        this.setup = setup;
        this.rec = rec;
        this.client = client;
    }

    /** For an intruder: opens its connection and session now, before READY, not in the run. */
    void warmUp() {
        if (setup.intruderService() != null) {
            intruder = newIntruder();
            intruder.warmUp();
        }
    }

    /** Starts the load; null, or an {@code ERROR} answer if one is running already. */
    String start() {
        if (workload != null || elections != null || keys != null || (intruder != null && intruder.started())) {
            return "ERROR already started";
        }
        if (setup.intruderService() != null) {
            if (intruder == null) {
                intruder = newIntruder(); // after a stop: a new one
            }
            intruder.start();
        } else if (setup.elections()) {
            elections = new ElectionWorkload(
                    rec,
                    client,
                    setup.fenced(),
                    setup.unfenced(),
                    setup.seed(),
                    setup.bound(),
                    ElectionWorkload.LEADER_IGNORES_LOSS.equals(setup.bug()));
            elections.start();
            for (String e : setup.observe()) {
                ElectionObserver observer = new ElectionObserver(rec, client, e);
                observers.add(observer);
                observer.start();
            }
        } else if (setup.keys()) {
            keys = new KeysWorkload(rec, client, setup.opener(), setup.renewing(), setup.seed(), setup.bound());
            keys.start();
        } else {
            workload = new Workload(rec, client, setup.fenced(), setup.unfenced(), setup.seed(), setup.bound());
            if (setup.multiLocks()) {
                workload.takeMultiLocks();
            }
            workload.start();
        }
        return null;
    }

    private Intruder newIntruder() {
        return new Intruder(rec, client, setup.intruderService().get(), setup.ttl(), setup.seed(), setup.bound());
    }

    /** Stops the workload or intruder, if one runs; a later {@link #start()} starts a new one. */
    void stop() throws InterruptedException {
        if (workload != null) {
            workload.stop();
            LOG.info(
                    "workload stopped after {} operations, {} failed store writes",
                    workload.operations(),
                    workload.storeFailures());
            workload = null;
        }
        if (keys != null) {
            keys.stop();
            LOG.info("keys workload stopped after {} operations", keys.operations());
            keys = null;
        }
        if (elections != null) {
            elections.stop();
            for (ElectionObserver o : observers) {
                o.stop();
            }
            observers.clear();
            LOG.info(
                    "election workload stopped after {} campaigns, {} leaderships, {} failed store writes",
                    elections.operations(),
                    elections.leaderships(),
                    elections.storeFailures());
            elections = null;
        }
        if (intruder != null) {
            intruder.stop();
            LOG.info("intruder stopped after {} foreign releases", intruder.attempts());
            intruder.close();
            intruder = null;
        }
    }

    /**
     * {@code final-intrude NAME}: one attack of the intruder on NAME, phase {@value
     * ClientMain#FINAL}. Answers {@code OK} (the service obeyed), {@code FAIL <code>} (it refused),
     * {@code UNKNOWN <error>}, or {@code NONE} when nothing was sent (no holder seen, no session).
     */
    String intrude(String name) {
        if (setup.intruderService() == null) {
            return "ERROR not an intruder";
        }
        if (intruder == null) {
            intruder = newIntruder(); // after a stop: a new one, its loop not started
        }
        return intruder.attempt(name, ClientMain.FINAL)
                .map(r -> r instanceof Result.Released
                        ? "OK"
                        : r instanceof Result.Refused f
                                ? "FAIL " + f.why()
                                : r instanceof Result.Unknown u ? "UNKNOWN " + u.why() : "UNKNOWN " + r)
                .orElse("NONE");
    }

    /** {@code hold-next}: null, or an {@code ERROR} answer when no workload runs. */
    String holdNext(Consumer<String> announce) {
        if (workload == null) {
            return "ERROR no workload is running";
        }
        workload.lingerInNextCriticalSection(announce);
        return null;
    }

    /** {@code wait-next KEY}: null, or an {@code ERROR} answer when no workload runs. */
    String waitNext(String key, Consumer<String> announce) {
        if (workload == null) {
            return "ERROR no workload is running";
        }
        workload.announceNextQueuedWait(key, announce);
        return null;
    }

    /** {@code lead-next}: null, or an {@code ERROR} answer when no election workload runs. */
    String leadNext(Consumer<String> announce) {
        if (elections == null) {
            return "ERROR no election workload is running";
        }
        elections.lingerInNextStep(announce);
        return null;
    }

    /** {@code lead-cancel}: drops a request and ends a linger under way, if an election workload runs. */
    void cancelLead() {
        if (elections != null) {
            elections.cancelLinger();
        }
    }
}
