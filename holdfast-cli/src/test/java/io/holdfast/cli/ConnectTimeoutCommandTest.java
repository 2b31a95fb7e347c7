package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.server.HoldfastServer;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.testkit.FreePorts;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --connect-timeout} of {@code holdfast lock} and {@code elect}: connecting is timed apart from {@code
 * --wait}, and a node that is not serving yet is waited for within it (issue 51, finding 8: a command started
 * as the server came up gave up after the 5 s connect timeout, or after {@code --wait} when that was shorter).
 */
class ConnectTimeoutCommandTest {
    @TempDir
    Path dir;

    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return Main.commandLine(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), Map.of())
                .execute(args);
    }

    /**
     * A try-once started before its server: refused, then "no leader" while the node elects itself, then served.
     * Before the change connecting took its time from {@code --wait 0s} (at least 1 s) and the command exited 69.
     */
    @Test
    void aTryStartedBeforeItsServerWaitsForTheNodeAndThenTriesOnce() throws Exception {
        int clientPort = FreePorts.next();
        int raftPort = FreePorts.next();
        Path ran = dir.resolve("ran");
        List<String> args = new ArrayList<>(List.of("lock", "jobs/early", "--wait", "0s"));
        args.addAll(List.of("--backend", "holdfast://127.0.0.1:" + clientPort, "--", "touch", ran.toString()));
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> run(args.toArray(String[]::new)));
        // The node comes up only after the command has waited for it for 1.5 s, longer than --wait's 1 s floor.
        Awaitility.await("the command waits for its node")
                .during(Duration.ofMillis(1_500))
                .atMost(Duration.ofSeconds(10))
                .until(() -> !exit.isDone());
        try (HoldfastServer server =
                HoldfastServer.start(ServerConfig.single(dir.resolve("node"), "127.0.0.1", clientPort, raftPort, -1))) {
            assertThat(exit.get(30, TimeUnit.SECONDS)).as(err.toString()).isZero();
            assertThat(ran).as("the command ran").exists();
            assertThat(server.isLeader()).isTrue();
        }
    }

    @Test
    void aConnectTimeoutOutOfTheClientsRangeIsAUsageError() {
        assertThat(run("lock", "jobs/x", "--connect-timeout", "1ms", "--backend", "mem:ct", "--", "true"))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines()).singleElement().asString().startsWith("holdfast lock: --connect-timeout: ");
    }
}
