package io.holdfast.verify.run;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PlantedBugsTest {
    @Test
    void theHarnesssPlantedDelayIsExposedByLeaderKillAndStaysOutOfTheNodesAndWorkers() {
        assertThat(PlantedBugs.all()).contains(PlantedBugs.SLOW_FAILOVER);
        assertThat(PlantedBugs.exposing(PlantedBugs.SLOW_FAILOVER))
                .map(Scenario::name)
                .contains("leader-kill");
        assertThat(PlantedBugs.isNodeBug(PlantedBugs.SLOW_FAILOVER)).isFalse();
        assertThat(PlantedBugs.isClientBug(PlantedBugs.SLOW_FAILOVER)).isFalse();
        assertThat(PlantedBugs.isNodeBug("release-by-anyone")).isTrue();
        assertThat(PlantedBugs.isNodeBug(PlantedBugs.LEADER_IGNORES_LOSS)).isFalse();
    }

    @Test
    void theStaleTxnCompareIsExposedByKeysInTheNodes() {
        assertThat(PlantedBugs.exposing("stale-txn-compare"))
                .map(Scenario::name)
                .contains("keys");
        assertThat(PlantedBugs.isNodeBug("stale-txn-compare")).isTrue();
        Scenario keys = Scenarios.byName("keys").orElseThrow();
        assertThat(keys.load().workerArgs("stale-txn-compare", 0)).containsExactly("--keys");
        assertThat(keys.load().probedNames()).containsExactly("keys-lock", "members-lock");
    }

    @Test
    void everyPlantedBugNamesAScenarioThatExists() {
        for (String bug : PlantedBugs.all()) {
            assertThat(PlantedBugs.exposing(bug)).as(bug).isPresent();
        }
        assertThat(PlantedBugs.exposing("no-such-bug")).isEmpty();
    }
}
