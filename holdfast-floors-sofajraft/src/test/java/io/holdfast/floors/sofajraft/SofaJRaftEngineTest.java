package io.holdfast.floors.sofajraft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.floors.Engine;
import io.holdfast.floors.Floor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * SOFAJRaft's floor measures real consensus writes, as {@code EngineContractTest} checks for the harness's own
 * engines: each write counted was committed and applied by the leader's state machine, answered with its own
 * bytes, with fsync before acknowledging, for every log storage variant.
 */
class SofaJRaftEngineTest {
    @ParameterizedTest(name = "{0}, {1} member(s)")
    @CsvSource({"sofajraft, 1", "sofajraft, 3", "sofajraft-segment, 1", "sofajraft-segment, 3"})
    void everyWriteCountedWasAppliedAndDurable(String name, int nodes, @TempDir Path dir) throws Exception {
        try (Engine engine = new SofaJRaftEngine(name)) {
            engine.start(nodes, dir, true, Map.of());
            assertThat(engine.durable()).as("fsync before acknowledging").isTrue();
            Floor.Result r = Floor.measureAndCheck(engine, 2, new byte[64], Duration.ofMillis(400));
            assertThat(r.cpuByGroup()).containsKey("submitting threads");
        }
    }

    @Test
    void withoutFsyncTheEngineSaysItIsNotDurable(@TempDir Path dir) throws Exception {
        try (Engine engine = new SofaJRaftEngine("sofajraft")) {
            engine.start(1, dir, false, Map.of());
            assertThat(engine.durable()).isFalse();
        }
    }

    @Test
    void unknownVariantsAndSettingsFailWithOneLine(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> new SofaJRaftEngine("sofajraft-logit"))
                .hasMessage("unknown SOFAJRaft variant sofajraft-logit; known: sofajraft, sofajraft-segment");
        try (Engine engine = new SofaJRaftEngine("sofajraft")) {
            assertThatThrownBy(() -> engine.start(1, dir, true, Map.of("valueSizeThreshold", "0")))
                    .hasMessage("sofajraft takes no setting valueSizeThreshold; it takes electionTimeoutMs,"
                            + " openStatistics");
        }
    }
}
