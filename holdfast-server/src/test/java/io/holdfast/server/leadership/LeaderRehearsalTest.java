package io.holdfast.server.leadership;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.Ticker;
import io.holdfast.server.config.ServerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LeaderRehearsalTest {
    @TempDir
    Path dir;

    private ServerConfig member(Path dataDir) {
        Map<String, ServerConfig.Peer> peers = new LinkedHashMap<>();
        // Ports nobody listens on: the rehearsal must not need its cluster, nor touch it.
        peers.put("n1", new ServerConfig.Peer("127.0.0.1", 1, 2));
        peers.put("n2", new ServerConfig.Peer("127.0.0.1", 3, 4));
        peers.put("n3", new ServerConfig.Peer("127.0.0.1", 5, 6));
        return new ServerConfig("n1", peers, dataDir, "127.0.0.1", 2, -1, true, Duration.ofMillis(1000));
    }

    private static Set<Path> rehearsalDirs() throws IOException {
        try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return s.filter(p -> p.getFileName().toString().startsWith("holdfast-rehearsal-"))
                    .collect(Collectors.toSet());
        }
    }

    @Test
    void writesEveryPairThroughAThrowawayLeaderAndLeavesNothingBehind() throws Exception {
        Path dataDir = dir.resolve("data");
        Set<Path> before = rehearsalDirs();

        LeaderRehearsal.Outcome done = LeaderRehearsal.run(member(dataDir), 300, Ticker.system(), () -> false);

        // Every pair granted (the acquire's reply was a grant) and released, and a read after each.
        assertThat(done.pairs()).isEqualTo(300);
        assertThat(done.reads()).isEqualTo(300);
        // The node's data directory was never made, and the rehearsal's own is gone.
        assertThat(dataDir).doesNotExist();
        assertThat(rehearsalDirs()).isEqualTo(before);
    }

    @Test
    void stopsEarlyWhenAskedAndStillCleansUp() throws Exception {
        Set<Path> before = rehearsalDirs();
        long[] asked = {0};

        LeaderRehearsal.Outcome done =
                LeaderRehearsal.run(member(dir.resolve("data")), 1_000_000, Ticker.system(), () -> asked[0]++ > 200);

        assertThat(done.pairs()).isLessThan(1_000_000);
        assertThat(rehearsalDirs()).isEqualTo(before);
    }

    @Test
    void runsOnlyInAClusterAndOnlyWhenTurnedOn() {
        assertThat(LeaderRehearsal.pairs(null, "n1")).isZero();
        assertThat(LeaderRehearsal.pairs("on", "n1")).isEqualTo(LeaderRehearsal.DEFAULT_PAIRS);
        assertThat(LeaderRehearsal.pairs("off", "n1")).isZero();
        assertThat(LeaderRehearsal.pairs(" 0 ", "n1")).isZero();
        assertThat(LeaderRehearsal.pairs("250", "n1")).isEqualTo(250);
        assertThat(LeaderRehearsal.pairs("many", "n1")).isZero();
        assertThat(LeaderRehearsal.pairs("-3", "n1")).isZero();

        Map<String, ServerConfig.Peer> one = Map.of("n1", new ServerConfig.Peer("127.0.0.1", 1, 2));
        ServerConfig alone = new ServerConfig("n1", one, dir, "127.0.0.1", 2, -1, true, Duration.ofMillis(1000));
        assertThat(LeaderRehearsal.startIfClustered(alone, Ticker.system(), () -> false))
                .isEmpty();
    }
}
