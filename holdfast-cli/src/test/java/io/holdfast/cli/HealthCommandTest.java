package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.server.HoldfastServer;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.testkit.FreePorts;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code holdfast health [--ready]} against real nodes, finding the node's HTTP port from the same
 * environment and configuration file as {@code holdfast server} reads: 0 on 200, else 69 with one
 * line naming the address and the answer or the failure.
 */
class HealthCommandTest {
    @TempDir
    Path dir;

    private StringWriter out;
    private StringWriter err;

    private int run(Map<String, String> env, String... args) {
        out = new StringWriter();
        err = new StringWriter();
        return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), env)
                .execute(args);
    }

    @Test
    void aLeadingNodeIsHealthyAndReadyOnTheHttpPortOfItsConfigurationFile() throws Exception {
        int httpPort = FreePorts.next();
        ServerConfig config =
                ServerConfig.single(dir.resolve("n1"), "127.0.0.1", FreePorts.next(), FreePorts.next(), httpPort);
        Path file = dir.resolve("holdfast.properties");
        Files.writeString(file, "http-port = " + httpPort + "\nbind = 127.0.0.1\n");
        Map<String, String> env = Map.of("HOLDFAST_CONFIG", file.toString());
        try (HoldfastServer node = HoldfastServer.start(config)) {
            Awaitility.await().atMost(Duration.ofSeconds(20)).until(node::isLeader);
            // A generous timeout: the node's first HTTP answer on a loaded machine.
            assertThat(run(env, "health", "--timeout", "30s")).as(err::toString).isZero();
            assertThat(out.toString()).contains("\"status\":\"up\"");
            assertThat(run(env, "health", "--ready", "--timeout", "30s"))
                    .as(err::toString)
                    .isZero();
            assertThat(out.toString()).contains("\"ready\":true");
        }
    }

    @Test
    void aMemberWithoutAQuorumIsHealthyButNotReady() throws Exception {
        int httpPort = FreePorts.next();
        Map<String, ServerConfig.Peer> peers = new LinkedHashMap<>();
        for (String id : new String[] {"n1", "n2", "n3"}) {
            peers.put(id, new ServerConfig.Peer("127.0.0.1", FreePorts.next(), FreePorts.next()));
        }
        String spec = peers.entrySet().stream()
                .map(e -> e.getKey() + "=127.0.0.1:" + e.getValue().raftPort() + ":"
                        + e.getValue().clientPort())
                .collect(java.util.stream.Collectors.joining(","));
        ServerConfig config = new ServerConfig(
                "n1",
                peers,
                dir.resolve("n1"),
                "127.0.0.1",
                peers.get("n1").clientPort(),
                httpPort,
                true,
                Duration.ofSeconds(1));
        // As in the image: the node's host comes from its entry in the peers, the port from the environment.
        Map<String, String> env =
                Map.of("HOLDFAST_ID", "n1", "HOLDFAST_PEERS", spec, "HOLDFAST_HTTP_PORT", String.valueOf(httpPort));
        try (HoldfastServer node = HoldfastServer.start(config)) {
            Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> run(env, "health") == ExitCodes.OK);
            assertThat(run(env, "health", "--ready", "--timeout", "30s")).isEqualTo(ExitCodes.BACKEND_UNAVAILABLE);
            assertThat(err.toString())
                    .isEqualTo("holdfast health: http://127.0.0.1:" + httpPort
                            + "/ready answered 503 {\"ready\":false,\"reason\":\"n1 knows no leader: an election is under way,"
                            + " or no majority of the members is reachable\"}"
                            + System.lineSeparator());
        }
    }

    @Test
    void nothingListeningIsUnavailableInOneLine() throws Exception {
        int httpPort = FreePorts.next();
        assertThat(run(Map.of("HOLDFAST_HTTP_PORT", String.valueOf(httpPort)), "health"))
                .isEqualTo(ExitCodes.BACKEND_UNAVAILABLE);
        assertThat(err.toString())
                .isEqualTo("holdfast health: cannot reach http://127.0.0.1:" + httpPort + "/health: connection refused"
                        + System.lineSeparator());
        assertThat(run(Map.of(), "health", "--url", "http://127.0.0.1:" + httpPort, "--timeout", "0s"))
                .isEqualTo(ExitCodes.USAGE);
    }
}
