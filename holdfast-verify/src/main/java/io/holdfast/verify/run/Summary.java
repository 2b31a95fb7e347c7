package io.holdfast.verify.run;

import io.holdfast.verify.check.Unavailability;
import io.holdfast.verify.history.CaughtUp;
import io.holdfast.verify.history.Fault;
import io.holdfast.verify.history.FaultAction;
import io.holdfast.verify.history.Meta;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Record;
import io.holdfast.verify.history.Replica;
import io.holdfast.verify.history.StoreWrite;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The figures a run prints: operations by outcome, faults by kind, stale writes refused by the
 * fenced store, and how long the service was unavailable after each loss of its leader (from the
 * fault to the next operation that succeeded), and the slowest catch-up of a replica after a heal
 * (in the scenarios that measure it), and per kind of fault and of heal the time to the next write
 * ({@link Unavailability}).
 *
 * @param completed the operations that completed (ok, fail or unknown), notices left out
 * @param faults how many fault records there were of each action, by its {@link FaultAction#text()}
 *     (so that they print in the order of those names)
 * @param injected the faults injected: every fault record but those that undo one ({@link
 *     #RECOVERIES}) and the nemesis's own errors
 * @param slowestCatchUp the {@link CaughtUp} record that took longest from its heal, or null
 * @param measuredHeals how many heals were measured
 * @param toNextWrite the lines of {@link Unavailability#report}
 */
record Summary(
        Meta meta,
        Map<String, Integer> operations,
        long completed,
        Map<String, Integer> faults,
        long injected,
        long staleWritesRefused,
        long fencedWritesAccepted,
        List<Long> unavailableMillis,
        long finalTerm,
        CaughtUp slowestCatchUp,
        int measuredHeals,
        List<String> toNextWrite) {

    /** The fault records that end a fault rather than inject one, and a nemesis that broke off. */
    static final Set<FaultAction> RECOVERIES = EnumSet.of(
            FaultAction.START, FaultAction.RESUME, FaultAction.HEAL, FaultAction.CATCH_UP, FaultAction.NEMESIS_ERROR);

    static Summary of(List<Record> records) {
        Meta meta = null;
        Map<String, Integer> ops = new TreeMap<>();
        Map<String, Integer> faults = new TreeMap<>();
        long completed = 0;
        long injected = 0;
        long refused = 0;
        long accepted = 0;
        List<Long> leaderLosses = new ArrayList<>();
        List<Long> successes = new ArrayList<>();
        long term = 0;
        CaughtUp slowest = null;
        Set<Long> heals = new HashSet<>();
        for (Record r : records) {
            if (r instanceof Meta m && meta == null) {
                meta = m;
            } else if (r instanceof Op op && (op.isCompletion() || op.type() == Op.Type.NOTICE)) {
                ops.merge(op.f() + " " + op.type(), 1, Integer::sum);
                if (op.isCompletion()) {
                    completed++;
                }
                if (op.type() == Op.Type.OK && !"final".equals(op.phase())) {
                    successes.add(op.time());
                }
            } else if (r instanceof Replica rep) {
                term = Math.max(term, rep.term());
            } else if (r instanceof CaughtUp c) {
                heals.add(c.healed());
                if (slowest == null || c.millis() > slowest.millis()) {
                    slowest = c;
                }
            } else if (r instanceof Fault f) {
                faults.merge(f.action().text(), 1, Integer::sum);
                if (!RECOVERIES.contains(f.action())) {
                    injected++;
                }
                if (f.detail() != null && f.detail().contains("leader")) {
                    leaderLosses.add(f.time());
                }
            } else if (r instanceof StoreWrite w && StoreWrite.FENCED.equals(w.store())) {
                if (w.accepted()) {
                    accepted++;
                } else {
                    refused++;
                }
            }
        }
        Collections.sort(successes);
        List<Long> gaps = new ArrayList<>();
        for (long loss : leaderLosses) {
            int i = Collections.binarySearch(successes, loss);
            int next = i >= 0 ? i : -i - 1;
            if (next < successes.size()) {
                gaps.add((successes.get(next) - loss) / 1_000_000);
            }
        }
        Collections.sort(gaps);
        return new Summary(
                meta,
                ops,
                completed,
                faults,
                injected,
                refused,
                accepted,
                gaps,
                term,
                slowest,
                heals.size(),
                Unavailability.report(records));
    }

    void print(PrintStream out) {
        if (meta != null) {
            out.printf(
                    "  run: scenario %s, seed %d, %d nodes, %d clients%s%n",
                    meta.scenario(),
                    meta.seed(),
                    meta.nodes(),
                    meta.clients(),
                    meta.bug() == null ? "" : ", planted bug " + meta.bug());
        }
        out.println("  operations: " + (operations.isEmpty() ? "none" : operations));
        out.println("  faults: " + (faults.isEmpty() ? "none" : faults));
        out.printf(
                "  fenced store: %d writes accepted, %d stale writes refused%n",
                fencedWritesAccepted, staleWritesRefused);
        if (finalTerm > 0) {
            out.printf("  elections: the run ended in Raft term %d (term 1 is the first election)%n", finalTerm);
        }
        if (!unavailableMillis.isEmpty()) {
            out.printf(
                    "  unavailable after leader loss: p50 %d ms, max %d ms (%d losses)%n",
                    unavailableMillis.get(unavailableMillis.size() / 2),
                    unavailableMillis.get(unavailableMillis.size() - 1),
                    unavailableMillis.size());
        }
        for (String line : toNextWrite) {
            out.println("  " + line);
        }
        if (slowestCatchUp != null) {
            out.printf(
                    "  heal to caught up: %s ms (replica %s), the slowest replica over %d heal%s%n",
                    slowestCatchUp.caughtUp()
                            ? Long.toString(slowestCatchUp.millis())
                            : "over " + slowestCatchUp.millis(),
                    slowestCatchUp.node(),
                    measuredHeals,
                    measuredHeals == 1 ? "" : "s");
        }
    }
}
