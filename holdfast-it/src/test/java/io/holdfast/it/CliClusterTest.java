package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.testkit.FreePorts;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI contract across real processes: three {@code holdfast server} processes form a cluster,
 * and several {@code holdfast lock} processes append to one file inside their critical sections.
 * Afterwards no two critical sections overlap and the fencing tokens strictly increase; then the
 * leader is killed with SIGKILL mid-run and the same holds.
 */
class CliClusterTest {
    private static final String JAR = System.getProperty("holdfast.jar", "../holdfast-cli/target/holdfast.jar");

    @TempDir
    Path dir;

    private final List<Process> servers = new ArrayList<>();
    private final List<Integer> httpPorts = new ArrayList<>();

    @AfterEach
    void stopServers(org.junit.jupiter.api.TestInfo test) throws IOException {
        for (Process p : servers) {
            p.destroyForcibly();
        }
        // Keep the servers' logs where CI shows them: the first thing to read when this fails.
        for (int i = 1; i <= servers.size(); i++) {
            Path log = dir.resolve("n" + i + ".log");
            if (Files.exists(log)) {
                Path kept =
                        Path.of("target", "it-logs", test.getDisplayName().replaceAll("\\W", "_"), "n" + i + ".log");
                Files.createDirectories(kept.getParent());
                Files.copy(log, kept, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    /** A port for a server to bind later ({@link FreePorts}: no other socket is given it meanwhile). */
    private static int freePort() {
        return FreePorts.next();
    }

    /** The lock processes' class archives, one per backend scheme (see {@link ClassArchive}). */
    private static final Map<String, ClassArchive> ARCHIVES = new ConcurrentHashMap<>();

    private static List<String> java(String... args) {
        return java(List.of(), args);
    }

    private static List<String> java(List<String> jvmOptions, String... args) {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1"));
        cmd.addAll(jvmOptions);
        cmd.add("-jar");
        cmd.add(JAR);
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static ClassArchive archiveFor(String uri) {
        return ARCHIVES.computeIfAbsent(uri.substring(0, uri.indexOf(':')), scheme -> {
            try {
                return new ClassArchive(Path.of("target", "cds"), "lock-" + scheme, Path.of(JAR));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    /** Starts three nodes; returns the client URI naming all of them. */
    private String startCluster() throws Exception {
        int[] raft = {freePort(), freePort(), freePort()};
        int[] client = {freePort(), freePort(), freePort()};
        StringBuilder peers = new StringBuilder();
        StringBuilder uri = new StringBuilder("holdfast://");
        for (int i = 0; i < 3; i++) {
            peers.append(i == 0 ? "" : ",")
                    .append("n")
                    .append(i + 1)
                    .append("=127.0.0.1:")
                    .append(raft[i])
                    .append(':')
                    .append(client[i]);
            uri.append(i == 0 ? "" : ",").append("127.0.0.1:").append(client[i]);
        }
        for (int i = 0; i < 3; i++) {
            int http = freePort();
            httpPorts.add(http);
            Path log = dir.resolve("n" + (i + 1) + ".log");
            servers.add(new ProcessBuilder(java(
                            "server",
                            "--id",
                            "n" + (i + 1),
                            "--peers",
                            peers.toString(),
                            "--client-port",
                            String.valueOf(client[i]),
                            "--http-port",
                            String.valueOf(http),
                            "--data-dir",
                            dir.resolve("n" + (i + 1)).toString()))
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start());
        }
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> leader() >= 0);
        return uri.toString();
    }

    /** The index of the node whose /status says it leads, or -1. */
    private int leader() {
        HttpClient http = HttpClient.newHttpClient();
        for (int i = 0; i < httpPorts.size(); i++) {
            if (!servers.get(i).isAlive()) {
                continue;
            }
            try {
                String body = http.send(
                                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPorts.get(i) + "/status"))
                                        .timeout(Duration.ofSeconds(2))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .body();
                if (body.contains("\"role\":\"leader\"")) {
                    return i;
                }
            } catch (IOException | InterruptedException e) {
                // not up yet
            }
        }
        return -1;
    }

    /** Runs PROCS lock processes of ROUNDS critical sections each; returns their exit codes. */
    private List<Integer> contend(String uri, Path file, int procs, int rounds, Runnable midway) throws Exception {
        String body =
                "echo \"start $HOLDFAST_FENCING_TOKEN\" >> \"$F\"; sleep 0.05; echo \"end $HOLDFAST_FENCING_TOKEN\" >> \"$F\"";
        List<Thread> threads = new ArrayList<>();
        List<Integer> codes = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int p = 0; p < procs; p++) {
            Thread t = new Thread(() -> {
                ClassArchive archive = archiveFor(uri);
                for (int r = 0; r < rounds; r++) {
                    try {
                        ClassArchive.Start start = archive.next();
                        ProcessBuilder pb = new ProcessBuilder(java(
                                start.jvmOptions(),
                                "lock",
                                "it/counter",
                                "--wait",
                                "120s",
                                "--backend",
                                uri,
                                "--",
                                "sh",
                                "-c",
                                body));
                        pb.environment().put("F", file.toString());
                        pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
                        Process proc = pb.start();
                        int code = proc.waitFor(180, TimeUnit.SECONDS) ? proc.exitValue() : -1;
                        archive.exited(start, code);
                        codes.add(code);
                    } catch (IOException | InterruptedException e) {
                        codes.add(-2);
                    }
                }
            });
            threads.add(t);
            t.start();
        }
        if (midway != null) {
            midway.run();
        }
        for (Thread t : threads) {
            t.join(300_000);
        }
        return codes;
    }

    /** Checks the file: start/end pairs never interleave and tokens strictly increase. */
    private static void assertExclusiveAndFenced(Path file, int sections) throws IOException {
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(2 * sections);
        long last = 0;
        for (int i = 0; i < lines.size(); i += 2) {
            String[] start = lines.get(i).split(" ");
            String[] end = lines.get(i + 1).split(" ");
            assertThat(start[0]).as("line %d", i).isEqualTo("start");
            assertThat(end[0])
                    .as("line %d: the next section started before this one ended", i + 1)
                    .isEqualTo("end");
            assertThat(end[1]).as("line %d", i + 1).isEqualTo(start[1]);
            long token = Long.parseLong(start[1]);
            assertThat(token).as("token at line %d", i).isGreaterThan(last);
            last = token;
        }
    }

    @Test
    void lockProcessesNeverOverlapAndTokensRise() throws Exception {
        String uri = startCluster();
        Path file = dir.resolve("sections.txt");
        List<Integer> codes = contend(uri, file, 4, 4, null);
        assertThat(codes).hasSize(16).containsOnly(0);
        assertExclusiveAndFenced(file, 16);
    }

    /** The check can fail: processes that each lock in their own JVM (mem:) exclude nobody. */
    @Test
    void theCheckCatchesProcessesThatDoNotShareALockService() throws Exception {
        Path file = dir.resolve("unshared.txt");
        List<Integer> codes = contend("mem:", file, 3, 2, null);
        assertThat(codes).hasSize(6).containsOnly(0);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> assertExclusiveAndFenced(file, 6))
                .isInstanceOf(AssertionError.class);
    }

    @Test
    void killingTheLeaderMidRunLosesNoExclusionAndNoRun() throws Exception {
        String uri = startCluster();
        Path file = dir.resolve("sections.txt");
        List<Integer> codes = contend(uri, file, 3, 5, () -> {
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(file) && Files.size(file) > 0);
            int leader = leader();
            servers.get(leader).destroyForcibly(); // SIGKILL
        });
        // Failover is invisible to the processes but for latency: sessions outlive the election,
        // so every run completes under the lock, alone, with a higher token than the one before.
        assertThat(codes).hasSize(15).containsOnly(0);
        assertExclusiveAndFenced(file, 15);
    }
}
