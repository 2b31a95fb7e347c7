package io.holdfast.floors.jgroups;

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
 * JGroups Raft's floor measures real consensus writes, as holdfast-floors' {@code EngineContractTest} checks for the
 * engines there: each write counted was committed and applied by the leader's state machine, answered with its own
 * bytes, with fsync before acknowledging.
 */
class JGroupsRaftEngineTest {
    @ParameterizedTest(name = "{0}, {1} member(s)")
    @CsvSource({"jgroups-raft, 1", "jgroups-raft, 3"})
    void everyWriteCountedWasAppliedAndDurable(String name, int nodes, @TempDir Path dir) throws Exception {
        try (Engine engine = new JGroupsRaftEngine(name)) {
            engine.start(nodes, dir, true, Map.of());
            assertThat(engine.durable()).as("fsync before acknowledging").isTrue();
            Floor.Result r = Floor.measureAndCheck(engine, 2, new byte[64], Duration.ofMillis(400));
            assertThat(r.cpuByGroup()).containsKey("submitting threads");
        }
    }

    @Test
    void withoutFsyncTheEngineSaysItIsNotDurable(@TempDir Path dir) throws Exception {
        try (Engine engine = new JGroupsRaftEngine("jgroups-raft")) {
            engine.start(1, dir, false, Map.of());
            assertThat(engine.durable()).isFalse();
        }
    }

    @Test
    void settingsGoOnTopOfTheEnginesOwn(@TempDir Path dir) throws Exception {
        try (Engine engine = new JGroupsRaftEngine("jgroups-raft")) {
            engine.start(1, dir, true, Map.of("RAFT.log_use_fsync", "false"));
            assertThat(engine.durable()).isFalse();
        }
    }

    @Test
    void settingsAndNamesAreCheckedWithOneLineErrors(@TempDir Path dir) {
        assertThatThrownBy(() -> new JGroupsRaftEngine("jgroups-raft-leveldb"))
                .hasMessage("JGroupsRaftEngine runs jgroups-raft, not jgroups-raft-leveldb");
        assertThatThrownBy(() -> start(dir, Map.of("max_log_size", "1")))
                .hasMessageStartingWith("jgroups-raft settings are PROTOCOL.property=value");
        assertThatThrownBy(() -> start(dir, Map.of("PAXOS.ballots", "1")))
                .hasMessage("jgroups-raft: no protocol PAXOS in the stack (settings are PROTOCOL.property=value)");
        assertThatThrownBy(() -> start(dir, Map.of("RAFT.no_such_property", "1")))
                .hasMessage("jgroups-raft: RAFT has no property no_such_property");
    }

    private static void start(Path dir, Map<String, String> settings) throws Exception {
        try (Engine engine = new JGroupsRaftEngine("jgroups-raft")) {
            engine.start(1, dir, true, settings);
        }
    }
}
