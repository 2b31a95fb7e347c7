package io.holdfast.verify.run;

import static io.holdfast.verify.history.FaultAction.CONTEND;
import static io.holdfast.verify.history.FaultAction.IDLE;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Cues to the client workers that put a client where a fault bites ({@link Faults#clientCues()}):
 * inside its critical section, queued on a lock, inside a step of its leader work, or trying a given
 * lock at a given moment (ClientMain's {@code hold-next}, {@code wait-next}, {@code lead-next} and
 * {@code contend}). A cue pauses nothing by itself, but for {@link #pauseQueuedOn}, which pauses the
 * client through {@link Faults#pauseClient} (so {@link Faults#healAll()} resumes it). A client that
 * does not get there in time is no error: the cue answers null and the nemesis tries again later.
 */
final class ClientCues {
    private final Workers workers;
    private final Faults faults;
    private int leadRequests;

    ClientCues(Workers workers, Faults faults) {
        this.workers = workers;
        this.faults = faults;
    }

    /**
     * Asks a random client to linger in its next exclusive critical section (after its ENTER
     * writes, before its EXIT) and returns {client, key} once it is there, or null if none got
     * there in time. Nothing is paused yet.
     */
    String[] inCriticalSection(Random r) throws InterruptedException {
        String client = workers.ids().get(r.nextInt(workers.ids().size()));
        try {
            String[] w = workers.ask(client, "hold-next", Duration.ofSeconds(5), "IN-CS")
                    .split("\\s+");
            return new String[] {client, w[1], w[2]};
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Asks a client other than {@code not} to queue on {@code key} and SIGSTOPs it while it waits
     * there. Returns the client, or null if it did not queue in time.
     */
    String pauseQueuedOn(Random r, String key, String not) throws InterruptedException {
        List<String> others = new ArrayList<>(workers.ids());
        others.remove(not);
        String client = others.get(r.nextInt(others.size()));
        try {
            workers.ask(client, "wait-next " + key, Duration.ofSeconds(2), "IN-WAIT");
            faults.pauseClient(client, "while queued for " + key);
            return client;
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Asks {@code client} to try the exclusive lock {@code key} now and, if granted, to hold it for
     * {@code hold} (see ClientMain's {@code contend}). Returns its answer ({@code CONTENDED OK
     * <token>} or {@code CONTENDED FAIL <error>}), or null if none came within {@code timeout}.
     */
    String contend(String client, String key, Duration hold, Duration timeout) throws InterruptedException {
        String answer;
        try {
            answer = workers.ask(client, "contend " + key + " " + hold.toMillis(), timeout, "CONTENDED");
        } catch (IOException e) {
            answer = null;
        }
        faults.record(CONTEND, client, key + ": " + (answer == null ? "no answer" : answer));
        return answer;
    }

    /**
     * Stops {@code client}'s workload (ClientMain's {@code stop}: its operation under way finishes and
     * what it held is released), so that it makes no calls but its heartbeats and a {@link #contend}'s
     * hold until {@link #busy}: the member it talks to stays the one it was homed on. Returns whether
     * it said {@code STOPPED} within {@code timeout}; {@link #busy} waits for that answer if not.
     */
    boolean idle(String client, Duration timeout) throws InterruptedException {
        try {
            workers.ask(client, "stop", timeout, "STOPPED");
            faults.record(IDLE, client, "workload stopped");
            return true;
        } catch (IOException e) {
            faults.record(IDLE, client, "workload not stopped yet: " + e.getMessage());
            return false;
        }
    }

    /**
     * Starts {@code client}'s workload again after {@link #idle}; if idle's {@code stop} was not
     * answered then, waits for that answer first (up to 30 s), so that no later wait for {@code
     * STOPPED} takes it for its own. A client that never answers stays idle.
     */
    void busy(String client, boolean stopped) throws InterruptedException {
        try {
            if (!stopped) {
                workers.expect(client, Duration.ofSeconds(30), "STOPPED");
            }
            workers.send(client, "start");
            faults.record(IDLE, client, "workload started again");
        } catch (IOException e) {
            faults.record(IDLE, client, "workload left stopped: " + e.getMessage());
        }
    }

    /**
     * Asks every client to linger in its next step of leader work (after deciding to act, before
     * its writes; see ClientMain's {@code lead-next}) and returns {client, election, epoch} of the
     * first that gets there within {@code timeout}, or null. The others are told to go on ({@code
     * lead-cancel}); the one returned lingers until it is paused, or until {@link #letLead}.
     */
    String[] leading(Duration timeout) throws InterruptedException {
        String nonce = Integer.toString(++leadRequests);
        List<String> asked = new ArrayList<>();
        for (String c : workers.ids()) {
            try {
                workers.send(c, "lead-next " + nonce);
                asked.add(c);
            } catch (IOException notRunning) {
                // not asked
            }
        }
        String[] found = null;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (found == null && !asked.isEmpty() && System.nanoTime() < deadline) {
            for (String c : asked) {
                try {
                    String[] w = workers.expect(c, Duration.ofMillis(20), "IN-LEAD " + nonce + " ")
                            .split("\\s+");
                    found = new String[] {c, w[2], w[3]};
                    break;
                } catch (IOException notYet) {
                    // the next one
                }
            }
        }
        for (String c : asked) {
            if (found == null || !c.equals(found[0])) {
                letLead(c);
            }
        }
        return found;
    }

    /** Lets a client that lingers in its leader work (or was asked to) go on at once. */
    void letLead(String client) {
        try {
            workers.send(client, "lead-cancel");
        } catch (IOException notRunning) {
            // nothing lingers there
        }
    }
}
