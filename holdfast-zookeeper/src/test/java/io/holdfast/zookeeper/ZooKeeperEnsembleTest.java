package io.holdfast.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.UnavailableException;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link Capability#SURVIVES_NODE_FAILURE}: a three-server ensemble (Curator's {@code TestingCluster},
 * real servers in this JVM) loses each of its servers in turn, the leader among them, while a lock
 * is held. The lock stays held and exclusive, its holder keeps it, and tokens keep growing.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ZooKeeperEnsembleTest {
    private static TestingCluster cluster;

    @BeforeAll
    static void startEnsemble() throws Exception {
        Path target = Path.of("target");
        Files.createDirectories(target);
        List<InstanceSpec> specs = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            File data = Files.createTempDirectory(target, "zookeeper-ensemble-").toFile();
            specs.add(new InstanceSpec(
                    data,
                    -1,
                    -1,
                    -1,
                    true,
                    i,
                    ZooKeeperTestServer.TICK_MILLIS,
                    -1,
                    Map.of("minSessionTimeout", "1000", "maxSessionTimeout", "600000")));
        }
        cluster = new TestingCluster(specs);
        cluster.start();
        // The servers elect a leader after start() returns; on a loaded machine that has outlasted a
        // client's 2 s connect timeout. The test is about losing servers once the ensemble serves.
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(200))
                .ignoreException(UnavailableException.class)
                .alias("the ensemble to serve a client")
                .until(() -> {
                    try (LockClient probe = open()) {
                        return probe.isOpen();
                    }
                });
    }

    @AfterAll
    static void stopEnsemble() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static LockClient open() {
        return open(cluster.getConnectString());
    }

    private static LockClient open(String connectString) {
        // A session of 20 s: the lease is given up after a quarter of it without a connection, which
        // must outlast a reconnection to another server plus an election.
        return LockClient.open(
                "zookeeper://" + connectString + "/holdfast-ensemble",
                ClientOptions.builder()
                        .sessionTtl(Duration.ofSeconds(20))
                        .requestTimeout(Duration.ofSeconds(2))
                        .build());
    }

    @Test
    void aHeldLockSurvivesTheLossOfEachServerInTurn() throws Exception {
        try (LockClient holder = open();
                LockClient other = open()) {
            String name = "ensemble/held";
            Lease lease = holder.lock(name).tryAcquire().orElseThrow();
            for (InstanceSpec server : cluster.getInstances()) {
                assertThat(cluster.killServer(server)).isTrue();

                Optional<Lease> stolen =
                        retryWhileUnavailable(() -> other.lock(name).tryAcquire());
                assertThat(stolen)
                        .as("the lock with server %d down", server.getServerId())
                        .isEmpty();
                // Longer than the 5 s after which a disconnected holder gives its lease up: the holder
                // reconnected to another server (and kept its session) or was never disconnected.
                await().during(Duration.ofSeconds(6))
                        .atMost(Duration.ofSeconds(7))
                        .alias("the holder's lease to stay valid with server " + server.getServerId() + " down")
                        .until(lease::isValid);

                assertThat(cluster.restartServer(server)).isTrue();
                awaitServing(server);
            }
            long token = lease.fencingToken();
            lease.release();
            // The other client may be connected to a server that has not applied the release yet (a
            // ZooKeeper server serves reads from its own state, which may lag): it gets the lock
            // once its server has caught up.
            java.util.concurrent.atomic.AtomicReference<Lease> next =
                    new java.util.concurrent.atomic.AtomicReference<>();
            await().atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(100))
                    .ignoreException(UnavailableException.class)
                    .alias("the lock after its holder released it")
                    .until(() -> {
                        other.lock(name).tryAcquire().ifPresent(next::set);
                        return next.get() != null;
                    });
            assertThat(next.get().fencingToken()).isGreaterThan(token);
        }
    }

    /**
     * Waits until a restarted server has rejoined the quorum: {@code restartServer} returns once the
     * process runs, and killing the next server before this one serves leaves one server of three
     * (CI's run of 2026-11-27 saw 30 s without a quorum that way).
     */
    private static void awaitServing(InstanceSpec server) {
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(200))
                .ignoreException(UnavailableException.class)
                .alias("server " + server.getServerId() + " to serve again after its restart")
                .until(() -> {
                    try (LockClient probe = open("127.0.0.1:" + server.getPort())) {
                        probe.lock("ensemble/probe").tryAcquire().ifPresent(Lease::release);
                        return true;
                    }
                });
    }

    private static <T> T retryWhileUnavailable(Supplier<T> call) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                return call.get();
            } catch (UnavailableException e) {
                if (System.nanoTime() - deadline > 0) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }
}
