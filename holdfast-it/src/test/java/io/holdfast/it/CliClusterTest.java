package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI contract across real processes: three {@code holdfast server} processes form a cluster,
 * and several {@code holdfast lock} processes append to one file inside their critical sections.
 * Afterwards no two critical sections overlap and the fencing tokens strictly increase; then the
 * leader is killed with SIGKILL mid-run and the same holds.
 */
class CliClusterTest {
    private static final String JAR = ServerProcesses.JAR;

    @TempDir
    Path dir;

    @RegisterExtension
    final ServerProcesses.PerTest servers = new ServerProcesses.PerTest();

    private ServerProcesses cluster;

    /** The lock processes' class archives, one per backend scheme (see {@link ClassArchive}). */
    private static final Map<String, ClassArchive> ARCHIVES = new ConcurrentHashMap<>();

    private static List<String> java(List<String> jvmOptions, String... args) {
        return ServerProcesses.java(jvmOptions, args);
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
        cluster = servers.start(dir, 3);
        return cluster.clientUri();
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
            try {
                cluster.kill(cluster.leader()); // SIGKILL
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        // Failover is invisible to the processes but for latency: sessions outlive the election,
        // so every run completes under the lock, alone, with a higher token than the one before.
        assertThat(codes).hasSize(15).containsOnly(0);
        assertExclusiveAndFenced(file, 15);
    }
}
