package io.holdfast.verify.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.verify.history.Expectation;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ScenariosTest {
    @Test
    void theScenariosWhoseFaultsMustBiteSaySo() {
        Map<String, Set<Expectation>> expecting = Scenarios.all().stream()
                .filter(s -> !s.expects().isEmpty())
                .collect(Collectors.toMap(Scenario::name, Scenario::expects));
        assertThat(expecting)
                .containsOnly(
                        Map.entry("partition", Set.of(Expectation.HEAL_CATCH_UP)),
                        Map.entry("member-homes", Set.of(Expectation.HEAL_CATCH_UP)),
                        Map.entry("ring", Set.of(Expectation.HEAL_CATCH_UP)),
                        Map.entry("client-paused", Set.of(Expectation.STALE_WRITE_REFUSED)),
                        Map.entry(
                                "election",
                                Set.of(Expectation.STALE_WRITE_REFUSED, Expectation.DEPOSED_LEADER_REFUSED)),
                        Map.entry("snapshot-catch-up", Set.of(Expectation.SNAPSHOT_CATCH_UP)),
                        Map.entry("membership", Set.of(Expectation.INTERRUPTED_ADD_COMPLETES)),
                        Map.entry("keys", Set.of(Expectation.KEYS_EXERCISED)));
    }

    @Test
    void onlyMemberHomesJumpsClocks() {
        assertThat(Scenarios.all().stream().filter(Scenarios::jumpsClocks).map(Scenario::name))
                .containsExactly("member-homes");
    }
}
