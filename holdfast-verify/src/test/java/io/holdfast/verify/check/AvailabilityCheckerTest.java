package io.holdfast.verify.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.verify.check.CheckResult.Status;
import io.holdfast.verify.history.Fault;
import io.holdfast.verify.history.FaultAction;
import io.holdfast.verify.history.Record;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;

class AvailabilityCheckerTest {
    private final AvailabilityChecker quiet = new AvailabilityChecker(AvailabilityChecker.Bounds.QUIET);

    /**
     * A client that writes a register every 100 ms from 0 to {@code endMs} (each written 5 ms later),
     * but not from {@code silentFrom} to {@code silentTo} (its writes there come back unknown), plus
     * the faults.
     */
    private static List<Record> run(long endMs, long silentFrom, long silentTo, Fault... faults) {
        H h = new H().meta("leader-kill");
        long version = 0;
        for (long t = 0; t <= endMs; t += 100) {
            if (t >= silentFrom && t < silentTo) {
                h.cas("c1", t, "reg-0", version, t).unknown(t + 50);
            } else {
                h.cas("c1", t, "reg-0", version, t).wrote(t + 5, ++version);
            }
        }
        List<Record> records = new ArrayList<>(h.records());
        records.addAll(List.of(faults));
        records.sort(Comparator.comparingLong(Record::time));
        return records;
    }

    private static Fault fault(long ms, FaultAction action, String target, String detail) {
        return new Fault(H.ms(ms), action, target, detail);
    }

    private static Fault killLeader(long ms) {
        return fault(ms, FaultAction.KILL, "n1", "leader");
    }

    @Test
    void aLeaderKillFollowedByAWriteWithinOneSecondPasses() {
        CheckResult r =
                quiet.check(run(20_000, 5_000, 6_000, killLeader(5_000), fault(8_000, FaultAction.START, "n1", "")));
        assertThat(r.status()).as(r.toString()).isEqualTo(Status.PASS);
        assertThat(r.counts())
                .containsEntry("leader kills", 1L)
                .containsEntry("heals", 1L)
                .containsEntry("slowest kill ms", 1_005L);
    }

    @Test
    void aLeaderKillThatCostsTenSecondsFailsNamingTheGap() {
        CheckResult r =
                quiet.check(run(30_000, 5_000, 15_000, killLeader(5_000), fault(16_000, FaultAction.START, "n1", "")));
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.violations())
                .singleElement()
                .asString()
                .isEqualTo("the kill leader n1 at t+5000.000ms was followed by the next write 10005 ms later,"
                        + " more than 3000 ms");
    }

    @Test
    void aWriteAskedForBeforeTheKillDoesNotEndItsGap() {
        List<Record> records = new ArrayList<>(
                run(30_000, 5_000, 15_000, killLeader(5_000), fault(16_000, FaultAction.START, "n1", "")));
        records.addAll(new H().cas("c2", 4_990, "reg-1", 0, 1).wrote(5_010, 1).records());
        records.sort(Comparator.comparingLong(Record::time));
        CheckResult r = quiet.check(records);
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.counts()).containsEntry("slowest kill ms", 10_005L);
    }

    @Test
    void theSameTenSecondsPassUnderABoundOfTwelve() {
        AvailabilityChecker loaded =
                new AvailabilityChecker(new AvailabilityChecker.Bounds(Duration.ofSeconds(12), Duration.ofSeconds(15)));
        CheckResult r =
                loaded.check(run(30_000, 5_000, 15_000, killLeader(5_000), fault(16_000, FaultAction.START, "n1", "")));
        assertThat(r.status()).as(r.toString()).isEqualTo(Status.PASS);
        assertThat(r.detail()).startsWith("bounds: leader kill 12000 ms, heal 15000 ms");
    }

    @Test
    void aHealFollowedByTheNextWriteSixSecondsLaterFails() {
        CheckResult r = quiet.check(run(
                30_000,
                5_000,
                16_000,
                fault(5_000, FaultAction.PARTITION, "n1,c1 | n2,n3,c2", "leader in the first side"),
                fault(10_000, FaultAction.HEAL, "network", "")));
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.violations())
                .singleElement()
                .asString()
                .startsWith("the heal network network at t+10000.000ms was followed by the next write 6005 ms later");
    }

    @Test
    void noWriteAfterAKillWhileTheRunWentOnFails() {
        CheckResult r = quiet.check(run(12_000, 5_000, 99_000, killLeader(5_000)));
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.violations())
                .singleElement()
                .asString()
                .isEqualTo("no write after the kill leader n1 at t+5000.000ms: the run went on 7050 ms, more than"
                        + " 3000 ms");
    }

    @Test
    void noWriteAfterAKillBecauseTheRunEndedIsNamedButPasses() {
        CheckResult r = quiet.check(run(6_000, 5_000, 99_000, killLeader(5_000)));
        assertThat(r.status()).as(r.toString()).isEqualTo(Status.PASS);
        assertThat(r.detail())
                .contains("no write after the kill leader n1 at t+5000.000ms (the run ended 1050 ms after)");
    }

    @Test
    void aLeaderKillWithAnotherNodeDownIsReportedNotBounded() {
        List<Record> records = run(
                30_000,
                5_000,
                15_000,
                fault(4_990, FaultAction.KILL, "n2", "majority"),
                fault(5_000, FaultAction.KILL, "n1", "majority (was leader)"),
                fault(14_000, FaultAction.START, "n2", ""),
                fault(14_500, FaultAction.START, "n1", ""));
        CheckResult r = quiet.check(records);
        assertThat(r.status()).as(r.toString()).isEqualTo(Status.PASS);
        assertThat(r.counts()).containsEntry("leader kills", 0L).containsEntry("heals", 1L);
        assertThat(Unavailability.report(records))
                .contains("fault to next write: kill follower p50 10015 ms, max 10015 ms (1, 0 clean);"
                        + " kill leader p50 10005 ms, max 10005 ms (1, 0 clean)")
                .contains("heal to next write: restart p50 1005 ms, max 1005 ms (2, 1 clean)");
    }

    @Test
    void aRunWithoutLeaderKillsOrHealsIsSkipped() {
        assertThat(quiet.check(run(5_000, 0, 0)).status()).isEqualTo(Status.SKIPPED);
    }

    @Test
    void theReportGivesEveryKindItsMedianAndMaximum() {
        List<Record> records = run(
                30_000,
                0,
                0,
                killLeader(3_000),
                fault(5_000, FaultAction.START, "n1", ""),
                killLeader(10_050),
                fault(12_000, FaultAction.START, "n1", ""),
                killLeader(20_020),
                fault(22_000, FaultAction.START, "n1", ""));
        assertThat(Unavailability.report(records))
                .containsExactly(
                        "fault to next write: kill leader p50 55 ms, max 85 ms (3)",
                        "heal to next write: restart p50 5 ms, max 5 ms (3)");
    }
}
