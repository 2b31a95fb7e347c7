package io.holdfast.verify.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.verify.check.CheckResult.Status;
import io.holdfast.verify.history.AddRetried;
import io.holdfast.verify.history.Expectation;
import io.holdfast.verify.history.Meta;
import io.holdfast.verify.history.Record;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class InterruptedAddCheckerTest {
    private static final long MS = 1_000_000;
    private static final long KILL = 10_000 * MS;
    private static final long ELECTED = KILL + 3_000 * MS;

    private final InterruptedAddChecker checker = new InterruptedAddChecker();

    private static Meta meta(String scenario, Expectation... expects) {
        return new Meta(0, scenario, 1, 5, 4, null, 3000, Map.of(), Set.of(expects));
    }

    private static AddRetried added(String node, long millisAfterElection, int retries) {
        return new AddRetried(ELECTED + millisAfterElection * MS, node, KILL, "n1", ELECTED, retries, true, "changed");
    }

    @Test
    void anAdditionCompletedWithinAMinuteOfTheElectionPasses() {
        List<Record> run = List.of(
                meta("membership", Expectation.INTERRUPTED_ADD_COMPLETES),
                added("n4", 1_200, 1),
                added("n5", 60_000, 3));
        CheckResult r = checker.check(run);
        assertThat(r.status()).as(r.toString()).isEqualTo(Status.PASS);
        assertThat(r.counts())
                .containsEntry("interrupted", 2L)
                .containsEntry("retries", 4L)
                .containsEntry("slowest ms", 60_000L);
        assertThat(r.detail()).contains("n5");
    }

    @Test
    void anAdditionCompletedLaterThanAMinuteFails() {
        CheckResult r = checker.check(
                List.of(meta("membership", Expectation.INTERRUPTED_ADD_COMPLETES), added("n4", 60_001, 7)));
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.violations())
                .singleElement()
                .asString()
                .startsWith("the addition of n4 interrupted at t+10000.000ms (leader n1 killed): completed 60001 ms");
    }

    @Test
    void anAdditionNeverCompletedFailsWithTheLastAnswer() {
        AddRetried stuck =
                new AddRetried(ELECTED + 61_000 * MS, "n4", KILL, "n1", ELECTED, 12, false, "change-failed NOPROGRESS");
        CheckResult r = checker.check(
                List.of(meta("membership", Expectation.INTERRUPTED_ADD_COMPLETES), added("n5", 500, 1), stuck));
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.violations())
                .singleElement()
                .asString()
                .contains("n4", "not completed 61000 ms after the next election, 12 retries", "NOPROGRESS");
    }

    @Test
    void noLeaderAfterTheKillFails() {
        AddRetried leaderless = new AddRetried(KILL + 60_000 * MS, "n4", KILL, "n1", -1, 0, false, "no leader");
        CheckResult r = checker.check(List.of(meta("membership", Expectation.INTERRUPTED_ADD_COMPLETES), leaderless));
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.violations()).singleElement().asString().contains("no other node led within 60000 ms");
    }

    @Test
    void aMembershipRunWithoutInterruptionIsInconclusiveOtherScenariosSkipped() {
        assertThat(checker.check(List.of(meta("membership", Expectation.INTERRUPTED_ADD_COMPLETES)))
                        .status())
                .isEqualTo(Status.INCONCLUSIVE);
        List<Record> ring = List.of(meta("ring"), added("n4", 90_000, 1));
        assertThat(checker.check(ring).status()).isEqualTo(Status.SKIPPED);
    }
}
