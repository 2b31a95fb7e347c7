package io.holdfast.verify.check;

import io.holdfast.verify.history.Expectation;
import io.holdfast.verify.history.Fault;
import io.holdfast.verify.history.FaultAction;
import io.holdfast.verify.history.Meta;
import io.holdfast.verify.history.Record;
import java.util.List;
import java.util.Map;

/**
 * {@code catch-up}: a run whose scenario expects {@link Expectation#SNAPSHOT_CATCH_UP} must show
 * that a restarted follower caught up through a snapshot sent by the leader (a {@code catch-up}
 * fault record saying "from a snapshot"); one that caught up from the log alone did not test what
 * the scenario is for, and is inconclusive. Other scenarios: skipped.
 */
final class CatchUpChecker implements Checker {
    @Override
    public String name() {
        return "catch-up";
    }

    @Override
    public CheckResult check(List<Record> records) {
        long fromSnapshot = 0;
        long fromLog = 0;
        for (Record r : records) {
            if (r instanceof Fault f && f.action() == FaultAction.CATCH_UP) {
                if ("from a snapshot".equals(f.detail())) {
                    fromSnapshot++;
                } else {
                    fromLog++;
                }
            }
        }
        if (!Meta.expectations(records).contains(Expectation.SNAPSHOT_CATCH_UP)) {
            return new CheckResult(name(), CheckResult.Status.SKIPPED, List.of(), Map.of(), "");
        }
        Map<String, Long> counts = Map.of("from a snapshot", fromSnapshot, "from the log only", fromLog);
        if (fromSnapshot == 0) {
            return new CheckResult(
                    name(),
                    CheckResult.Status.INCONCLUSIVE,
                    List.of(),
                    counts,
                    "no follower caught up through a snapshot: the scenario did not test what it is for");
        }
        return new CheckResult(name(), CheckResult.Status.PASS, List.of(), counts, "");
    }
}
