package io.holdfast.verify.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.verify.check.CheckResult.Status;
import io.holdfast.verify.history.CaughtUp;
import io.holdfast.verify.history.Expectation;
import io.holdfast.verify.history.Fault;
import io.holdfast.verify.history.Meta;
import io.holdfast.verify.history.Record;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HealCatchUpCheckerTest {
    private static final long MS = 1_000_000;
    private static final long HEAL = 10_000 * MS;

    private final HealCatchUpChecker checker = new HealCatchUpChecker();

    private static Meta meta(String scenario, Expectation... expects) {
        return new Meta(0, scenario, 1, 5, 4, null, 3000, Map.of(), Set.of(expects));
    }

    private static Fault heal() {
        return new Fault(HEAL, "heal", "network", "");
    }

    private static CaughtUp after(String node, long millis) {
        return new CaughtUp(HEAL + millis * MS, node, HEAL, "n1", 500, 501, true);
    }

    @Test
    void everyReplicaWithinFiveSecondsPasses() {
        List<Record> run = List.of(
                meta("ring", Expectation.HEAL_CATCH_UP), heal(), after("n1", 0), after("n2", 180), after("n3", 4_999));
        CheckResult r = checker.check(run);
        assertThat(r.status()).as(r.toString()).isEqualTo(Status.PASS);
        assertThat(r.counts()).containsEntry("heals", 1L).containsEntry("slowest ms", 4_999L);
        assertThat(r.detail()).contains("n3");
    }

    @Test
    void aReplicaSlowerThanFiveSecondsFailsNamingItAndTheHeal() {
        List<Record> run =
                List.of(meta("partition", Expectation.HEAL_CATCH_UP), heal(), after("n1", 0), after("n2", 5_300));
        CheckResult r = checker.check(run);
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.violations())
                .singleElement()
                .asString()
                .startsWith("n2: caught up 5300 ms after the heal at t+10000.000ms, more than 5000 ms")
                .contains("commit index at the heal 500");
    }

    @Test
    void aReplicaThatNeverCaughtUpFails() {
        CaughtUp behind = new CaughtUp(HEAL + 10_000 * MS, "n4", HEAL, "n1", 500, 420, false);
        CheckResult r = checker.check(List.of(meta("ring", Expectation.HEAL_CATCH_UP), heal(), after("n1", 0), behind));
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.violations()).singleElement().asString().contains("n4: not caught up 10000 ms", "applied 420");
    }

    @Test
    void aHealAfterWhichNoNodeLedFails() {
        CaughtUp noLeader = new CaughtUp(HEAL + 10_000 * MS, "n2", HEAL, null, -1, 300, false);
        CheckResult r = checker.check(List.of(meta("ring", Expectation.HEAL_CATCH_UP), heal(), noLeader));
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.violations()).singleElement().asString().contains("no node led");
    }

    @Test
    void aHealWithoutMeasurementIsInconclusiveARunWithoutHealSkipped() {
        assertThat(checker.check(List.of(meta("ring", Expectation.HEAL_CATCH_UP), heal()))
                        .status())
                .isEqualTo(Status.INCONCLUSIVE);
        assertThat(checker.check(List.of(meta("ring", Expectation.HEAL_CATCH_UP)))
                        .status())
                .isEqualTo(Status.SKIPPED);
    }

    @Test
    void otherScenariosAreSkippedWhateverTheyRecorded() {
        List<Record> run = List.of(meta("bridge"), heal(), after("n2", 9_000));
        assertThat(checker.check(run).status()).isEqualTo(Status.SKIPPED);
    }
}
