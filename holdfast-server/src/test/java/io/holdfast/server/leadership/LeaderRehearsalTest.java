package io.holdfast.server.leadership;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.Ticker;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.testkit.FakeTicker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
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

    /**
     * What is left in the directory a rehearsal made its group's in (this test's own: a server that
     * rehearses elsewhere on the machine makes its own in the system's temporary directory).
     */
    private static List<Path> leftIn(Path scratch) throws IOException {
        try (Stream<Path> s = Files.list(scratch)) {
            return s.toList();
        }
    }

    @Test
    void writesEveryPairThroughTwoThrowawayLeadersAndLeavesNothingBehind() throws Exception {
        Path dataDir = dir.resolve("data");
        Path scratch = Files.createDirectories(dir.resolve("scratch"));

        RehearsalGroup.Outcome done = RehearsalGroup.run(member(dataDir), 300, Ticker.system(), () -> false, scratch);

        // Every pair granted (the acquire's reply was a grant) and released, and a read after each,
        // under the first leader and, once it died, under another (the clients' sessions kept).
        assertThat(done.pairs()).isEqualTo(300);
        assertThat(done.reads()).isEqualTo(300);
        assertThat(done.leaders()).isEqualTo(2);
        // Every round of relayed heartbeats answered, under both leaders, the last with its sessions acknowledged.
        assertThat(done.rounds()).isEqualTo(RehearsalGroup.ROUNDS);
        // The node's data directory was never made, and the rehearsal's own is gone.
        assertThat(dataDir).doesNotExist();
        assertThat(leftIn(scratch)).isEmpty();
    }

    /**
     * A rehearsal on a loaded member took more than a minute: its leaders' duties, on the member's
     * clock, must not expire its clients' sessions under it (with sessions of 60 s, the acquires
     * after this jump were answered SESSION_EXPIRED and the rehearsal gave up).
     */
    @Test
    void keepsItsSessionsThroughALongRehearsal() throws Exception {
        java.util.concurrent.atomic.AtomicLong offset = new java.util.concurrent.atomic.AtomicLong();
        Ticker slow = () -> System.nanoTime() + offset.get();
        java.util.concurrent.atomic.AtomicInteger polls = new java.util.concurrent.atomic.AtomicInteger();

        RehearsalGroup.Outcome done = RehearsalGroup.run(member(dir.resolve("data")), 300, slow, () -> {
            // Asked between two writes by a client, while the first leader's clients write.
            if (Thread.currentThread().getName().startsWith("holdfast-leader-rehearsal-")
                    && polls.incrementAndGet() == 40) {
                offset.addAndGet(Duration.ofMinutes(3).toNanos());
            }
            return false;
        });

        assertThat(polls.get()).isGreaterThan(40);
        assertThat(done.pairs()).isEqualTo(300);
        assertThat(done.leaders()).isEqualTo(2);
    }

    @Test
    void stopsEarlyWhenAskedAndStillCleansUp() throws Exception {
        Path scratch = Files.createDirectories(dir.resolve("scratch"));
        long[] asked = {0};

        RehearsalGroup.Outcome done = RehearsalGroup.run(
                member(dir.resolve("data")), 1_000_000, Ticker.system(), () -> asked[0]++ > 200, scratch);

        assertThat(done.pairs()).isLessThan(1_000_000);
        assertThat(done.rounds()).as("no round after the stop").isZero();
        assertThat(leftIn(scratch)).isEmpty();
    }

    @Test
    void waitsForASteadyLeaderAndGivesTheCpuBackToAFailover() throws Exception {
        FakeTicker ticker = new FakeTicker();
        AtomicReference<String> leadership = new AtomicReference<>("n2@3");
        System.setProperty(LeaderRehearsal.PROPERTY, "1000000");
        LeaderRehearsal rehearsal;
        try {
            rehearsal = LeaderRehearsal.startIfClustered(member(dir.resolve("data")), ticker, leadership::get)
                    .orElseThrow();
        } finally {
            System.clearProperty(LeaderRehearsal.PROPERTY);
        }
        try (rehearsal) {
            ticker.advance(Duration.ofMillis(LeaderRehearsal.START_DELAY_MILLIS));
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> rehearsal.attempts() == 0);
            ticker.advance(Duration.ofMillis(LeaderRehearsal.STEADY_MILLIS));
            await().atMost(Duration.ofSeconds(10)).until(() -> rehearsal.attempts() == 1);

            // The leader dies while it rehearses: it stops, and waits while no leader is known.
            leadership.set(null);
            await().atMost(Duration.ofSeconds(10)).until(() -> !rehearsal.running());
            ticker.advance(Duration.ofSeconds(30));
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> rehearsal.attempts() == 1);

            // A new leader holds for the steady time: it begins again.
            leadership.set("n3@4");
            await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2)).until(() -> rehearsal.attempts() == 1);
            ticker.advance(Duration.ofMillis(LeaderRehearsal.STEADY_MILLIS));
            await().atMost(Duration.ofSeconds(10)).until(() -> rehearsal.attempts() == 2 && rehearsal.running());
        }
    }

    @Test
    void aNodeThatLeadsDoesNotRehearse() throws Exception {
        FakeTicker ticker = new FakeTicker();
        System.setProperty(LeaderRehearsal.PROPERTY, "on");
        LeaderRehearsal rehearsal;
        try {
            rehearsal = LeaderRehearsal.startIfClustered(member(dir.resolve("data")), ticker, () -> "n1@2")
                    .orElseThrow();
        } finally {
            System.clearProperty(LeaderRehearsal.PROPERTY);
        }
        try (rehearsal) {
            ticker.advance(Duration.ofMillis(LeaderRehearsal.START_DELAY_MILLIS));
            await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2)).until(() -> true);
            ticker.advance(Duration.ofMillis(LeaderRehearsal.STEADY_MILLIS));
            await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> rehearsal.attempts() == 0);
        }
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
        assertThat(LeaderRehearsal.startIfClustered(alone, Ticker.system(), () -> "n1@1"))
                .isEmpty();
    }
}
