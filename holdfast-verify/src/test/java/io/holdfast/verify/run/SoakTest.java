package io.holdfast.verify.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The soak's loop, lines and totals over rounds whose outcomes the test sets: a clock the rounds
 * move, and a runner that writes a record into each round's directory as the real one does.
 */
class SoakTest {
    private static final Duration ROUND = Duration.ofMinutes(3);

    @TempDir
    Path out;

    private final StringWriter printed = new StringWriter();
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final List<SoakPlan.Round> ran = new ArrayList<>();

    private Soak soak(Duration duration, Soak.Runner runner) {
        return soak(new Soak.Options(duration, Duration.ofSeconds(60), 42, 4, out), runner);
    }

    private Soak soak(Soak.Options options, Soak.Runner runner) {
        SoakPlan plan = SoakPlan.ofAllScenarios(42);
        return new Soak(
                new PrintWriter(printed, true),
                options,
                clock::get,
                plan::next,
                Scenarios.all().size(),
                runner);
    }

    /** A round that takes {@link #ROUND} and ends with the outcome {@code byRound} gives its number. */
    private Soak.Runner scripted(Map<Integer, Verifier.Outcome> byRound) {
        return (round, dir) -> {
            ran.add(round);
            Files.writeString(dir.resolve("history.jsonl"), "{}\n");
            clock.addAndGet(ROUND.toNanos());
            return byRound.getOrDefault(
                    round.number(), new Verifier.Outcome(true, null, 100L * round.number(), round.number(), 0));
        };
    }

    private List<String> lines() {
        return printed.toString().lines().toList();
    }

    private List<String> directories() throws Exception {
        try (Stream<Path> dirs = Files.list(out)) {
            return dirs.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void roundsRunUntilTheDurationHasPassedAndTheTotalsAreTheirSums() throws Exception {
        Soak soak = soak(
                Duration.ofMinutes(10),
                scripted(Map.of(
                        2, new Verifier.Outcome(false, null, 250, 7, 3),
                        3, new Verifier.Outcome(false, null, 50, 1, 0))));

        int exit = soak.run();

        // rounds start at 0, 3, 6 and 9 minutes: the fourth starts before the 10 are up
        assertThat(ran).hasSize(4);
        assertThat(ran).containsExactlyElementsOf(rounds(SoakPlan.ofAllScenarios(42), 4));
        List<String> lines = lines();
        assertThat(lines).hasSize(6);
        assertThat(lines.get(0))
                .startsWith("soak: 10m in rounds of 1m, master seed 42; failed rounds are kept in " + out)
                .endsWith("(this soak again: holdfast verify --soak 10m --round-duration 1m --seed 42 --clients 4)");
        SoakPlan.Round second = ran.get(1);
        assertThat(lines.get(1))
                .matches("round 1  " + ran.get(0).scenario() + " +seed "
                        + ran.get(0).seed() + " +100 ops +1 faults +0 violations +PASS +3m00\\.0s");
        assertThat(lines.get(2))
                .matches("round 2  " + second.scenario() + " +seed " + second.seed()
                        + " +250 ops +7 faults +3 violations +FAIL +3m00\\.0s  kept "
                        + Pattern.quote(out.resolve(second.dirName()).toString()));
        assertThat(lines.get(3)).contains(" 50 ops", " 1 faults", " 0 violations", "INCONCLUSIVE", "kept ");
        assertThat(lines.get(4)).contains(" 400 ops", " 4 faults", "PASS").doesNotContain("kept");
        assertThat(lines.get(5))
                .isEqualTo("soak: 4 rounds, 800 ops, 13 faults, 4 distinct seeds, 4 of "
                        + Scenarios.all().size() + " scenarios covered, 3 violations, 2 failed rounds, 12m00.0s");
        assertThat(exit).as("a round with a violation fails the soak").isEqualTo(1);
    }

    @Test
    void onlyTheRoundsThatDidNotPassKeepTheirDirectoryWithTheCommandThatReplaysIt() throws Exception {
        soak(
                        Duration.ofMinutes(10),
                        scripted(Map.of(
                                2, new Verifier.Outcome(false, null, 250, 7, 3),
                                3, new Verifier.Outcome(false, "node n2 did not start", 50, 1, 0))))
                .run();

        assertThat(directories())
                .containsExactlyInAnyOrder(ran.get(1).dirName(), ran.get(2).dirName());
        for (SoakPlan.Round kept : ran.subList(1, 3)) {
            Path dir = out.resolve(kept.dirName());
            assertThat(dir.resolve("history.jsonl")).exists();
            assertThat(Files.readString(dir.resolve("replay.txt")).strip())
                    .isEqualTo("holdfast verify --scenario " + kept.scenario() + " --duration 1m --seed " + kept.seed()
                            + " --clients 4");
        }
        assertThat(lines().get(3)).contains("BROKE OFF");
        assertThat(lines().get(4))
                .as("why it broke off, under its line: a CI log shows no more")
                .isEqualTo("         broke off: node n2 did not start");
        assertThat(lines().get(6)).contains("2 failed rounds");
    }

    @Test
    void underAFailedRoundItsFindingsStandSoThatACiLogSaysWhy() throws Exception {
        String finding = "liveness FAIL: lock-0: final-phase ACQUIRE by c2:21 did not succeed " + "x".repeat(700);
        soak(
                        Duration.ofMinutes(10),
                        scripted(Map.of(
                                2,
                                new Verifier.Outcome(
                                        false, null, 250, 7, 1, List.of(finding, "leases FAIL: two holders")))))
                .run();

        assertThat(lines().get(2)).contains("FAIL", "kept ");
        assertThat(lines().get(3))
                .startsWith("         liveness FAIL: lock-0: final-phase ACQUIRE by c2:21 did not succeed xxx")
                .as("a finding is clipped, not a page")
                .hasSizeLessThan(640)
                .endsWith(" …");
        assertThat(lines().get(4)).isEqualTo("         leases FAIL: two holders");
        assertThat(lines().get(5)).startsWith("round 3 ").as("a passed round has no findings under it");
    }

    @Test
    void anInconclusiveRoundFailsTheSoakAsAViolationDoesAndKeepsItsRecordForARecheck() throws Exception {
        // a checker that could not decide (a search out of budget): no violation, and no pass
        int exit = soak(Duration.ofMinutes(5), scripted(Map.of(2, new Verifier.Outcome(false, null, 80, 4, 0))))
                .run();

        assertThat(exit).as("an inconclusive round fails the soak").isEqualTo(1);
        SoakPlan.Round inconclusive = ran.get(1);
        assertThat(lines().get(2)).contains(" 0 violations", "INCONCLUSIVE", "kept ");
        assertThat(lines().get(lines().size() - 1)).contains("0 violations, 1 failed rounds");
        assertThat(directories()).containsExactly(inconclusive.dirName());
        assertThat(out.resolve(inconclusive.dirName()).resolve("history.jsonl")).exists();
    }

    @Test
    void availabilityBoundsOtherThanTheQuietOnesAreInTheCommandsThatRunItAgain() throws Exception {
        Soak.Options options = new Soak.Options(
                Duration.ofMinutes(1),
                Duration.ofSeconds(60),
                42,
                4,
                out,
                new io.holdfast.verify.check.AvailabilityChecker.Bounds(
                        Duration.ofSeconds(12), Duration.ofSeconds(15)));
        soak(options, scripted(Map.of(1, new Verifier.Outcome(false, null, 50, 1, 1))))
                .run();

        assertThat(lines().get(0)).endsWith("--seed 42 --clients 4 --max-kill-gap 12s --max-heal-gap 15s)");
        assertThat(Files.readString(out.resolve(ran.get(0).dirName()).resolve("replay.txt"))
                        .strip())
                .endsWith("--clients 4 --max-kill-gap 12s --max-heal-gap 15s");
    }

    @Test
    void aSoakOfPassedRoundsExitsZeroAndLeavesNothingBehind() throws Exception {
        int exit = soak(Duration.ofMinutes(5), scripted(Map.of())).run();

        assertThat(exit).isZero();
        assertThat(ran).hasSize(2);
        assertThat(directories()).isEmpty();
        assertThat(lines().get(lines().size() - 1)).contains("2 rounds, 300 ops, 3 faults", "0 failed rounds");
    }

    @Test
    void aRoundAlwaysRunsAndARoundDirectoryLeftBeforeIsNotReused() throws Exception {
        SoakPlan.Round first = SoakPlan.ofAllScenarios(42).next(1);
        Files.createDirectories(out.resolve(first.dirName()));
        Soak soak = soak(Duration.ofNanos(1), scripted(Map.of(1, new Verifier.Outcome(false, null, 1, 1, 1))));

        soak.run();

        assertThat(ran).hasSize(1);
        assertThat(directories()).containsExactlyInAnyOrder(first.dirName(), first.dirName() + "-2");
        assertThat(out.resolve(first.dirName() + "-2").resolve("history.jsonl")).exists();
    }

    @Test
    @Timeout(30) // a stop that does not interrupt the round would leave it waiting for ever
    void aStopInterruptsTheRoundUnderWayAndPrintsTheTotalsOfTheRoundsBefore() throws Exception {
        AtomicReference<Soak> self = new AtomicReference<>();
        Soak.Runner passes = scripted(Map.of());
        Soak soak = soak(Duration.ofHours(1), (round, dir) -> {
            if (round.number() < 3) {
                return passes.run(round, dir);
            }
            ran.add(round);
            clock.addAndGet(Duration.ofSeconds(20).toNanos());
            Thread signal = new Thread(() -> self.get().stop(), "sigint");
            signal.start();
            new CountDownLatch(1).await(); // a round under way, until interrupted
            throw new AssertionError("not interrupted");
        });
        self.set(soak);

        int exit = soak.run();

        assertThat(ran).hasSize(3);
        List<String> lines = lines();
        assertThat(lines).hasSize(5);
        SoakPlan.Round third = ran.get(2);
        assertThat(lines.get(3))
                .isEqualTo("round 3  " + third.scenario() + " seed " + third.seed()
                        + ": stopped after 20.0s; not counted (its directory: " + out.resolve(third.dirName()) + ")");
        assertThat(lines.get(4)).startsWith("soak: 2 rounds, 300 ops, 3 faults, 2 distinct seeds,");
        assertThat(exit).as("the rounds that ran passed").isZero();
        assertThat(soak.awaitEnd(Duration.ZERO)).isTrue();
        assertThat(Thread.interrupted())
                .as("the stop's interrupt stays in the round")
                .isFalse();
    }

    private static List<SoakPlan.Round> rounds(SoakPlan plan, int count) {
        List<SoakPlan.Round> rounds = new ArrayList<>();
        for (int n = 1; n <= count; n++) {
            rounds.add(plan.next(n));
        }
        return rounds;
    }
}
