package io.holdfast.verify.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SoakPlanTest {
    private static List<SoakPlan.Round> rounds(SoakPlan plan, int count) {
        List<SoakPlan.Round> rounds = new ArrayList<>();
        for (int n = 1; n <= count; n++) {
            rounds.add(plan.next(n));
        }
        return rounds;
    }

    @Test
    void theMasterSeedAloneFixesEveryRoundsScenarioAndSeed() {
        List<SoakPlan.Round> first = rounds(SoakPlan.ofAllScenarios(42), 60);
        List<SoakPlan.Round> again = rounds(SoakPlan.ofAllScenarios(42), 60);
        List<SoakPlan.Round> other = rounds(SoakPlan.ofAllScenarios(43), 60);

        assertThat(again).isEqualTo(first);
        assertThat(other.stream().map(SoakPlan.Round::scenario).toList())
                .isNotEqualTo(first.stream().map(SoakPlan.Round::scenario).toList());
        assertThat(other.stream().map(SoakPlan.Round::seed).toList())
                .isNotEqualTo(first.stream().map(SoakPlan.Round::seed).toList());
        assertThat(first).extracting(SoakPlan.Round::number).startsWith(1, 2, 3);
    }

    @Test
    void roundsAreFaultScenariosWithoutPlantedBugsAndEachPassCoversThemAll() {
        SoakPlan plan = SoakPlan.ofAllScenarios(7);
        int known = Scenarios.all().size();
        assertThat(plan.scenarios())
                .containsExactlyElementsOf(
                        Scenarios.all().stream().map(Scenario::name).toList());

        List<SoakPlan.Round> rounds = rounds(plan, 3 * known);
        assertThat(rounds).allSatisfy(r -> {
            assertThat(r.bug()).isNull();
            assertThat(r.seed()).isBetween(0L, 0xFFFF_FFFFL);
        });
        for (int pass = 0; pass < 3; pass++) {
            assertThat(rounds.subList(pass * known, (pass + 1) * known))
                    .extracting(SoakPlan.Round::scenario)
                    .containsExactlyInAnyOrderElementsOf(plan.scenarios());
        }
        assertThat(rounds.subList(0, known))
                .as("dealt in a random order, not the list's")
                .extracting(SoakPlan.Round::scenario)
                .isNotEqualTo(plan.scenarios());
        Set<Long> seeds = new HashSet<>();
        rounds.forEach(r -> seeds.add(r.seed()));
        assertThat(seeds).hasSize(rounds.size());
    }

    @Test
    void aRoundNamesItsDirectoryAndTheCommandThatReplaysIt() {
        SoakPlan.Round round = new SoakPlan.Round(3, "leader-kill", 4_000_000_123L, null);
        assertThat(round.dirName()).isEqualTo("leader-kill-4000000123");
        assertThat(round.replayCommand(Duration.ofSeconds(60), 4))
                .isEqualTo("holdfast verify --scenario leader-kill --duration 1m --seed 4000000123 --clients 4");

        SoakPlan.Round planted = new SoakPlan.Round(1, "baseline", 9, "token-from-term");
        assertThat(planted.dirName()).isEqualTo("baseline-token-from-term-9");
        assertThat(planted.label()).isEqualTo("baseline+token-from-term");
        assertThat(planted.replayCommand(Duration.ofSeconds(5), 2))
                .isEqualTo("holdfast verify --bug token-from-term --duration 5s --seed 9 --clients 2");
    }
}
