package io.holdfast.verify.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HaltsTest {
    @TempDir
    Path dir;

    @Test
    void namesEachNodeThatHaltedWithTheTimeBeforeItAndItsReason() throws Exception {
        Path logs = Files.createDirectories(dir.resolve("logs"));
        Files.write(
                logs.resolve("n1.log"),
                List.of(
                        "05:38:54.100 INFO  i.h.s.RaftLockService - Node n1 is now a follower (term 3)",
                        "05:38:54.301 ERROR o.a.r.s.r.SegmentedRaftLogWorker - n1@group-FE5A32FDA9F7-Worker failed",
                        "java.lang.IllegalStateException: lastWrittenIndex == 431, entry == term: 3 index: 460",
                        "\tat org.apache.ratis.server.raftlog.segmented.SegmentedRaftLogWorker.run(X.java:1)",
                        "[stdout] HALTED node n1 stops: Ratis closed its Raft division (state CLOSING)",
                        "05:38:54.758 ERROR o.a.r.s.RaftServer$Division - n1@group: Failed appendEntries"));
        Files.write(
                logs.resolve("n2.log"),
                List.of("05:38:50.000 INFO  i.h.s.RaftLockService - Node n2 is now the leader (term 3)"));
        // a client's log and a node that halted twice (restarted between)
        Files.write(logs.resolve("c1.log"), List.of("[stdout] HALTED not a node"));
        Files.write(
                logs.resolve("n3.log"),
                List.of(
                        "[stdout] HALTED first, before any timestamped line",
                        "06:00:01.000 INFO  started again",
                        "[stdout] HALTED second"));

        assertThat(Halts.in(logs))
                .containsExactly(
                        "n1 at 05:38:54.301: node n1 stops: Ratis closed its Raft division (state CLOSING)",
                        "n3: first, before any timestamped line",
                        "n3 at 06:00:01.000: second");
    }

    @Test
    void noLogsNoHalts() throws Exception {
        assertThat(Halts.in(dir.resolve("logs"))).isEmpty();
        Path logs = Files.createDirectories(dir.resolve("logs"));
        Files.write(logs.resolve("n1.log"), List.of("05:38:54.100 INFO  READY", "[stdout] READY 1 2"));
        assertThat(Halts.in(logs)).isEmpty();
    }
}
