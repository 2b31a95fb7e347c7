package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.LockClient;
import io.holdfast.server.HoldfastServer;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.testkit.FreePorts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The long-running {@code kv} commands end with their session, against real server nodes on loopback (issue 70,
 * item 2): {@code kv put --attach} kept running, silent, after {@code holdfast sessions end} or an outage longer
 * than the TTL had deleted its key, and {@code kv watch} said its client "was closed" when its session had
 * expired. Both now exit 69 with one line naming the cause; a watch outlives a leader change and a restart within
 * the TTL.
 */
class KvSessionEndTest {
    /** The CLI's sessions have the default TTL. */
    private static final Duration TTL = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private final List<HoldfastServer> nodes = new ArrayList<>();

    @AfterEach
    void stop() {
        nodes.forEach(HoldfastServer::close);
    }

    @Test
    void anAttachedPutEndedByAnOperatorExits69NamingTheCause() throws Exception {
        String uri = startOne();
        CliRun put = new CliRun("kv", "put", "members/web-1", "10.0.0.7", "--attach", "--backend", uri);
        String session = ownerOf(uri, "members/web-1");

        CliRun end = new CliRun("sessions", "end", session, "--backend", uri);
        assertThat(end.exitWithin(Duration.ofSeconds(20))).as(end.err::toString).isZero();

        assertThat(put.exitWithin(Duration.ofSeconds(10))).isEqualTo(ExitCodes.BACKEND_UNAVAILABLE);
        assertThat(put.lines()).containsExactly("members/web-1 version 1");
        assertThat(put.err.toString().lines())
                .singleElement()
                .asString()
                .matches("holdfast kv put: members/web-1 is gone: (its session " + session
                        + " ended \\(SESSION_EXPIRED\\)|the session " + session
                        + " expired: the service (expired|no longer knows) the session)");
    }

    @Test
    void anOutageLongerThanTheTtlEndsAnAttachedPutAndAWatchWith69() throws Exception {
        String uri = startOne();
        CliRun put = new CliRun("kv", "put", "members/web-1", "10.0.0.7", "--attach", "--backend", uri);
        String session = ownerOf(uri, "members/web-1");
        CliRun watch = new CliRun("kv", "watch", "members/", "--backend", uri);
        Awaitility.await()
                .atMost(Duration.ofSeconds(20))
                .until(() -> !watch.lines().isEmpty());

        nodes.get(0).close();

        Duration bound = TTL.plus(Duration.ofSeconds(10));
        assertThat(put.exitWithin(bound)).isEqualTo(ExitCodes.BACKEND_UNAVAILABLE);
        assertThat(put.err.toString().lines())
                .singleElement()
                .asString()
                .isEqualTo("holdfast kv put: members/web-1 is gone: the session " + session
                        + " expired: no heartbeat was acknowledged for a whole TTL (10s)");
        assertThat(watch.exitWithin(bound)).isEqualTo(ExitCodes.BACKEND_UNAVAILABLE);
        assertThat(watch.err.toString().lines())
                .singleElement()
                .asString()
                .startsWith("holdfast kv watch: the watch of keys members/* ended: the session ")
                .endsWith(" expired: no heartbeat was acknowledged for a whole TTL (10s) (SESSION_EXPIRED)");
    }

    @Test
    void aWatchOutlivesARestartWithinTheTtl() throws Exception {
        String uri = startOne();
        CliRun watch = new CliRun("kv", "watch", "svc/", "--count", "2", "--backend", uri);
        Awaitility.await()
                .atMost(Duration.ofSeconds(20))
                .until(() -> !watch.lines().isEmpty());

        ServerConfig config = nodes.get(0).config();
        nodes.get(0).close();
        nodes.set(0, HoldfastServer.start(config));
        put(uri, "svc/after-restart");

        assertThat(watch.exitWithin(Duration.ofSeconds(30)))
                .as(watch.err::toString)
                .isZero();
        assertThat(watch.lines().get(1)).startsWith("REGISTER_SET svc/after-restart ");
        assertThat(watch.err.toString()).isEmpty();
    }

    @Test
    void aWatchOutlivesALeaderChange() throws Exception {
        LoopbackCluster cluster = new LoopbackCluster(dir);
        nodes.addAll(cluster.nodes());
        String uri = cluster.uri();
        String leader = cluster.awaitLeader();
        // Keys need every member's protocol version reported through the log: a first write waits for that.
        Awaitility.await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
            put(uri, "svc/before");
            return true;
        });
        CliRun watch = new CliRun("kv", "watch", "svc/", "--count", "2", "--backend", uri);
        Awaitility.await()
                .atMost(Duration.ofSeconds(20))
                .until(() -> !watch.lines().isEmpty());

        cluster.node(leader).close();
        Awaitility.await()
                .atMost(Duration.ofSeconds(30))
                .until(() -> nodes.stream().anyMatch(n -> !n.config().nodeId().equals(leader) && n.isLeader()));
        put(uri, "svc/after-failover");

        assertThat(watch.exitWithin(Duration.ofSeconds(30)))
                .as(watch.err::toString)
                .isZero();
        assertThat(watch.lines().get(1)).startsWith("REGISTER_SET svc/after-failover ");
        assertThat(watch.err.toString()).isEmpty();
    }

    private static String ownerOf(String uri, String key) {
        try (LockClient reader = LockClient.open(uri)) {
            return Awaitility.await()
                    .atMost(Duration.ofSeconds(20))
                    .until(() -> reader.keys().get(key).map(k -> k.owner()).orElse(null), o -> o != null);
        }
    }

    private static void put(String uri, String key) {
        try (LockClient writer = LockClient.open(uri)) {
            writer.keys().put(key, "1".getBytes(StandardCharsets.UTF_8));
        }
    }

    private String startOne() throws Exception {
        HoldfastServer node = HoldfastServer.start(
                ServerConfig.single(dir.resolve("n1"), "127.0.0.1", FreePorts.next(), FreePorts.next(), -1));
        nodes.add(node);
        Awaitility.await().atMost(Duration.ofSeconds(20)).until(node::isLeader);
        return "holdfast://127.0.0.1:" + node.clientPort();
    }
}
