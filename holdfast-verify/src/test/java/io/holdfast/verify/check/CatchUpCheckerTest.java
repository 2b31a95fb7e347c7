package io.holdfast.verify.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.verify.check.CheckResult.Status;
import io.holdfast.verify.history.Expectation;
import io.holdfast.verify.history.Fault;
import io.holdfast.verify.history.FaultAction;
import io.holdfast.verify.history.Meta;
import io.holdfast.verify.history.Record;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CatchUpCheckerTest {
    private final CatchUpChecker checker = new CatchUpChecker();

    private static Meta meta(String scenario, Expectation... expects) {
        return new Meta(0, scenario, 1, 3, 4, null, 3000, Map.of(), Set.of(expects));
    }

    @Test
    void aCatchUpThroughASnapshotPasses() {
        List<Record> run = List.of(
                meta("snapshot-catch-up", Expectation.SNAPSHOT_CATCH_UP),
                new Fault(1, FaultAction.CATCH_UP, "n2", "from a snapshot"));
        assertThat(checker.check(run).status()).isEqualTo(Status.PASS);
    }

    @Test
    void aCatchUpFromTheLogAloneIsInconclusive() {
        List<Record> run = List.of(
                meta("snapshot-catch-up", Expectation.SNAPSHOT_CATCH_UP),
                new Fault(1, FaultAction.CATCH_UP, "n2", "from the log only"));
        assertThat(checker.check(run).status()).isEqualTo(Status.INCONCLUSIVE);
        assertThat(checker.check(List.of(meta("snapshot-catch-up", Expectation.SNAPSHOT_CATCH_UP)))
                        .status())
                .isEqualTo(Status.INCONCLUSIVE);
    }

    @Test
    void otherScenariosAreSkipped() {
        assertThat(checker.check(List.of(meta("baseline"))).status()).isEqualTo(Status.SKIPPED);
    }
}
