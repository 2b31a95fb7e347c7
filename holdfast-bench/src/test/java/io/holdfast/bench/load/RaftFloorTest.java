package io.holdfast.bench.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.ratis.protocol.RaftClientAsynchronousProtocol;
import org.apache.ratis.server.RaftServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The floor measures real Raft writes: every one counted was appended, made durable and applied. */
class RaftFloorTest {
    @Test
    void everyWriteCountedWasAppliedByTheStateMachine(@TempDir Path dir) throws Exception {
        List<RaftServer> servers = RaftFloor.start(1, true, dir, Map.of());
        try {
            RaftServer leader = RaftFloor.awaitLeader(servers);
            RaftServer.Division division = leader.getDivision(RaftFloor.GROUP);
            long appliedBefore = division.getInfo().getLastAppliedIndex();
            RaftFloor.Result r = RaftFloor.measure(
                    (RaftClientAsynchronousProtocol) division, leader.getId(), 2, new byte[64], Duration.ofMillis(500));
            assertThat(r.writes()).isPositive();
            assertThat(r.latency().getTotalCount()).isEqualTo(r.writes());
            assertThat(division.getInfo().getLastAppliedIndex() - appliedBefore).isGreaterThanOrEqualTo(r.writes());
            assertThat(r.cpuByGroup()).containsKey("submitting threads");
        } finally {
            for (RaftServer s : servers) {
                s.close();
            }
        }
    }
}
