package io.holdfast.verify.check;

import io.holdfast.verify.history.Record;
import java.util.ArrayList;
import java.util.List;

/** The checkers a run must pass, in the order they are reported. */
public final class Checkers {
    private Checkers() {}

    /**
     * Fencing, linearizability (default budget), keys, leases, elections, liveness, data, replicas,
     * applied, catch-up, heal-catch-up, interrupted-add and availability (bounds for a quiet
     * machine), in that order.
     */
    public static List<Checker> all() {
        return all(AvailabilityChecker.Bounds.QUIET);
    }

    /** {@link #all()} with the availability checker's bounds given. */
    public static List<Checker> all(AvailabilityChecker.Bounds bounds) {
        return List.of(
                new FencingChecker(),
                new LinearizabilityChecker(),
                new KeysChecker(),
                new LeaseChecker(),
                new ElectionChecker(),
                new LivenessChecker(),
                new DataChecker(),
                new ReplicasChecker(),
                new AppliedChecker(),
                new CatchUpChecker(),
                new HealCatchUpChecker(bounds.heal()),
                new InterruptedAddChecker(),
                new AvailabilityChecker(bounds));
    }

    /**
     * Runs {@link #all()} over one run's records. A checker that throws is reported as
     * INCONCLUSIVE naming the exception (a bug in the checker must never read as a pass).
     */
    public static List<CheckResult> run(List<Record> records) {
        return run(records, AvailabilityChecker.Bounds.QUIET);
    }

    /** {@link #run(List)} with the availability checker's bounds given. */
    public static List<CheckResult> run(List<Record> records, AvailabilityChecker.Bounds bounds) {
        List<CheckResult> out = new ArrayList<>();
        for (Checker c : all(bounds)) {
            out.add(runOne(c, records));
        }
        return out;
    }

    static CheckResult runOne(Checker c, List<Record> records) {
        try {
            return c.check(records);
        } catch (RuntimeException e) {
            return new CheckResult(
                    c.name(), CheckResult.Status.INCONCLUSIVE, List.of(), java.util.Map.of(), "checker failed: " + e);
        }
    }
}
