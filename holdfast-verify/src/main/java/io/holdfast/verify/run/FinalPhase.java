package io.holdfast.verify.run;

import io.holdfast.verify.history.Fault;
import io.holdfast.verify.history.FaultAction;
import io.holdfast.verify.history.History;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What happens after the faults have healed: the workload stops and gives everything back, the
 * service's view of every name is recorded ({@code FinalLock}), and probes check that every name
 * can be taken, that a release hands a lock to the waiter at once, and that the registers kept
 * their acknowledged writes. All of it is recorded (phase "final") for the liveness and data
 * checkers; this class judges nothing itself. A scenario's own names (an election's lock) are
 * recorded and probed as exclusive locks too.
 */
final class FinalPhase {
    private static final Duration ASK = Duration.ofSeconds(30);
    private static final long PROBE_WAIT_MILLIS = 10_000;

    /** How long the hand-off probe waits to see its waiter queued before releasing anyway. */
    private static final Duration QUEUE_WAIT = Duration.ofSeconds(5);

    /** The waiters in a {@code peek-state} answer ({@code name:holders/waiters}). */
    private static final Pattern HOLDERS_WAITERS = Pattern.compile(":\\d+/(\\d+)");

    private final Workers workers;
    private final History.Writer harness;
    private final PrintStream out;
    private final List<String> extraLocks;

    /** @param extraLocks the scenario's own exclusive locks, recorded and probed like {@code lock-*} */
    FinalPhase(Workers workers, History.Writer harness, PrintStream out, List<String> extraLocks) {
        this.workers = workers;
        this.harness = harness;
        this.out = out;
        this.extraLocks = List.copyOf(extraLocks);
    }

    void run() throws InterruptedException {
        // A moment of workload after the heal: the system shows it serves again; and more, until
        // the clients have done the least work a run checks (WorkloadFloor).
        long extendedAt = System.nanoTime();
        Thread.sleep(1000);
        List<Path> histories = workers.clientHistories();
        if (WorkloadFloor.completed(histories) < WorkloadFloor.MIN_OPERATIONS) {
            long done = WorkloadFloor.await(
                    histories,
                    WorkloadFloor.MIN_OPERATIONS,
                    WorkloadFloor.MAX_EXTRA,
                    System::nanoTime,
                    d -> Thread.sleep(d.toMillis()));
            out.printf(
                    "  workload lengthened by %.1f s after the heal: %d operations completed (floor %d)%n",
                    (System.nanoTime() - extendedAt) / 1e9, done, WorkloadFloor.MIN_OPERATIONS);
        }
        for (String problem : workers.stopAll(Duration.ofSeconds(60))) {
            note("stop", problem);
        }
        // Every worker opens a new session when its last one expired: ask each for its current one.
        List<String> open = new ArrayList<>();
        List<String> live = new ArrayList<>();
        for (String id : workers.ids()) {
            try {
                live.add(workers.ask(id, "session", ASK, "SESSION")
                        .substring("SESSION".length())
                        .trim());
                open.add(id);
            } catch (IOException e) {
                note("session", e.getMessage());
            }
        }
        if (open.size() < 2) {
            note("probe", "fewer than two clients answer (" + open + "): the final probes cannot run");
            return;
        }
        String a = open.get(0);
        String b = open.get(1);
        List<String> names = new ArrayList<>(Verifier.LOCKS);
        names.add(Verifier.RW);
        names.add(Verifier.SEMAPHORE);
        names.addAll(extraLocks);
        try {
            // Holds of sessions that expired go away within a TTL: wait up to that long (and a bit)
            // for every name to be free, then record what the service says.
            long deadline = System.nanoTime() + Scenarios.TTL.plusSeconds(2).toNanos();
            while (System.nanoTime() < deadline) {
                String peek = workers.ask(a, "peek-state " + String.join(" ", names), ASK, "STATE-END");
                if (peek.replaceAll("\\S+:0/0", "").trim().equals("STATE-END")) {
                    break;
                }
                Thread.sleep(250);
            }
            String state = workers.ask(
                    a, "final-state " + String.join(",", live) + " " + String.join(" ", names), ASK, "STATE-END");
            out.println(
                    "  final state: " + state.substring("STATE-END".length()).trim());
            for (String lock : Verifier.LOCKS) {
                probe(a, lock, "LOCK");
            }
            for (String lock : extraLocks) {
                probe(a, lock, "LOCK");
            }
            probe(a, Verifier.RW, "WRITE");
            probe(a, Verifier.SEMAPHORE, "SEMAPHORE");
            handoff(a, b, Verifier.LOCKS.get(0));
            intrude(a, Verifier.LOCKS.get(1));
            for (String reg : Verifier.REGISTERS) {
                workers.ask(a, "final-get " + reg, ASK, "OK", "FAIL");
            }
        } catch (IOException e) {
            note("probe", e.getMessage());
        }
    }

    private void probe(String who, String name, String kind) throws IOException, InterruptedException {
        String got =
                workers.ask(who, "final-acquire " + name + " " + kind + " " + PROBE_WAIT_MILLIS, ASK, "OK", "FAIL");
        if (got.startsWith("OK")) {
            workers.ask(who, "final-release " + name, ASK, "OK", "FAIL");
        }
    }

    /** a holds, b waits, a releases: b must be granted at once (the checker measures how fast). */
    private void handoff(String a, String b, String lock) throws IOException, InterruptedException {
        String got = workers.ask(a, "final-acquire " + lock + " LOCK " + PROBE_WAIT_MILLIS, ASK, "OK", "FAIL");
        if (!got.startsWith("OK")) {
            return;
        }
        workers.send(b, "final-acquire " + lock + " LOCK " + PROBE_WAIT_MILLIS);
        awaitQueued(a, lock);
        workers.ask(a, "final-release " + lock, ASK, "OK", "FAIL");
        String waited = workers.expect(b, ASK, "OK", "FAIL");
        if (waited.startsWith("OK")) {
            workers.ask(b, "final-release " + lock, ASK, "OK", "FAIL");
        }
    }

    /**
     * a holds, the intruder asks for a's grant to be released (see {@link
     * io.holdfast.verify.client.Intruder}): the one foreign release of a run made while a holder is
     * known to hold; then a releases.
     */
    private void intrude(String a, String lock) throws IOException, InterruptedException {
        java.util.Optional<String> x = workers.intruderId();
        if (x.isEmpty()) {
            return;
        }
        String got = workers.ask(a, "final-acquire " + lock + " LOCK " + PROBE_WAIT_MILLIS, ASK, "OK", "FAIL");
        if (!got.startsWith("OK")) {
            return;
        }
        // Only an answer about ownership counts: on a loaded machine the intruder's new session
        // expired before its release arrived (12 s at load 51), and a lost answer says nothing.
        String attack = "";
        for (int i = 0; i < 3 && !(attack.equals("OK") || attack.equals("FAIL NOT_OWNER")); i++) {
            attack = workers.ask(x.get(), "final-intrude " + lock, ASK, "OK", "FAIL", "UNKNOWN", "NONE", "ERROR");
        }
        if (!(attack.equals("OK") || attack.equals("FAIL NOT_OWNER"))) {
            note("intrude", x.get() + " got no answer about ownership on " + lock + " in 3 tries: " + attack);
        }
        workers.ask(a, "final-release " + lock, ASK, "OK", "FAIL");
    }

    /**
     * Waits until the service shows a waiter queued on {@code lock} (asked through {@code who}), so
     * that the release that follows is a hand-off; after {@link #QUEUE_WAIT} it goes on regardless
     * (b is then granted when its request arrives, which the checker also sees).
     */
    private void awaitQueued(String who, String lock) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + QUEUE_WAIT.toNanos();
        do {
            String peek = workers.ask(who, "peek-state " + lock, ASK, "STATE-END");
            Matcher m = HOLDERS_WAITERS.matcher(peek);
            if (m.find() && Integer.parseInt(m.group(1)) > 0) {
                return;
            }
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
    }

    private void note(String what, String problem) {
        out.println("  final phase: " + what + ": " + problem);
        harness.append(new Fault(System.nanoTime(), FaultAction.FINAL_PROBLEM, what, problem));
    }
}
