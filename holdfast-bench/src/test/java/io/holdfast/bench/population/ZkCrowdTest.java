package io.holdfast.bench.population;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.bench.population.Generator.KillTally;
import io.holdfast.bench.population.Generator.Tally;
import io.holdfast.bench.population.PopulationBench.Step;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The population's ZooKeeper side on a real ZooKeeper server in this JVM (Curator's TestingServer). */
class ZkCrowdTest {
    private static final Duration TTL = Duration.ofSeconds(4);

    private TestingServer server;
    private String home;

    @BeforeEach
    void start() throws Exception {
        Path target = Path.of("target");
        Files.createDirectories(target);
        File data = Files.createTempDirectory(target, "zookeeper-").toFile();
        server = new TestingServer(
                new InstanceSpec(
                        data,
                        InstanceSpec.getRandomPort(),
                        -1,
                        -1,
                        true,
                        -1,
                        200,
                        -1,
                        Map.of("minSessionTimeout", "1000", "maxSessionTimeout", "60000")),
                true);
        home = "127.0.0.1:" + server.getPort();
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    @Test
    void sessionsAreHandlesOnTheServerAndTheirReadsCountAsHeartbeats() throws Exception {
        try (ZkCrowd crowd = new ZkCrowd("zookeeper://" + home, TTL, "population/w1/", 0)) {
            crowd.grow(new Step("sessions", 5));

            Tally t = crowd.tallies().get(0);
            assertThat(t.sessions()).isEqualTo(5);
            assertThat(t.sessionsByHome()).isEqualTo(Map.of(home, 5));
            assertThat(t.connectionsByHome()).isEqualTo(Map.of(home, 5));
            assertThat(t.expired()).isZero();
            org.awaitility.Awaitility.await("ten heartbeats acknowledged")
                    .atMost(Duration.ofSeconds(20))
                    .until(() -> crowd.tallies().get(0).keepAlives() >= 10);
            assertThatThrownBy(() -> crowd.grow(new Step("locks", 1)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("sessions only");
        }
    }

    @Test
    void aServerBackWithinTheTtlLosesNoSessionAndEveryHandleOnItReconnected() throws Exception {
        try (ZkCrowd crowd = new ZkCrowd("zookeeper://" + home, TTL, "population/", 0)) {
            crowd.grow(new Step("sessions", 3));

            crowd.killing(home, Duration.ofSeconds(2));
            server.stop();
            server.restart();
            KillTally k = crowd.afterKill();

            assertThat(k.sessions()).isEqualTo(3);
            assertThat(k.lost()).isZero();
            assertThat(k.unanswered()).isZero();
            assertThat(k.onKilled()).isEqualTo(new KillTally.Count(3, 3));
            assertThat(k.movedFromKilled()).isEqualTo(new KillTally.Count(3, 3));
            assertThat(k.elsewhere()).isEqualTo(new KillTally.Count(0, 0));
            assertThat(k.gapsMillis()).hasSize(3);
        }
    }

    @Test
    void theProbeTakesAndGivesBackCuratorsMutex() throws Exception {
        try (Probe probe = new Probe(new CuratorProbeLock(home, (int) TTL.toMillis()))) {
            Probe.W1 w1 = probe.w1(Duration.ofMillis(500));

            assertThat(w1.pairsPerSecond()).isPositive();
            assertThat(w1.errors()).isZero();
        }
    }

    @Test
    void aServersRoleAndZxidAreReadFromItsAnswerToSrvr() {
        String reply = "Zookeeper version: 3.8.0\nLatency min/avg/max: 0/0.5/12\nReceived: 10\nSent: 9\n"
                + "Connections: 2\nOutstanding: 0\nZxid: 0x20000001a\nMode: follower\nNode count: 7\n";

        assertThat(Ensemble.parse(reply)).contains(new Nodes.Status("follower", 0x20000001aL));
        assertThat(Ensemble.parse("This ZooKeeper instance is not currently serving requests\n"))
                .isEmpty();
    }
}
