package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.AcquireOptions;
import io.holdfast.Election;
import io.holdfast.Leadership;
import io.holdfast.LockClient;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code holdfast elect}: a command that runs while this process leads an election. */
class ElectCommandTest {
    private static final AtomicInteger STORES = new AtomicInteger();

    private final StringWriter err = new StringWriter();

    @TempDir
    Path dir;

    /** An in-process store of its own for each test (mem: has elections). */
    private final String backend = "mem:elect-test-" + STORES.incrementAndGet();

    private int elect(String... args) {
        List<String> all = new ArrayList<>(List.of("elect"));
        all.addAll(List.of(args));
        return Main.commandLine(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), Map.of())
                .execute(all.toArray(String[]::new));
    }

    @Test
    void theLeaderRunsTheCommandWithItsEpochAndResignsAfter() throws Exception {
        Path seen = dir.resolve("seen");
        int exit = elect(
                "services/indexer",
                "--value",
                "10.0.0.7:8080",
                "--backend",
                backend,
                "--",
                "sh",
                "-c",
                "echo \"$HOLDFAST_ELECTION $HOLDFAST_EPOCH $HOLDFAST_FENCING_TOKEN $HOLDFAST_LEADER_VALUE\" > \"$0\";"
                        + " exit 3",
                seen.toString());
        assertThat(exit).isEqualTo(3);
        String[] words = Files.readString(seen).strip().split(" ");
        assertThat(words[0]).isEqualTo("services/indexer");
        assertThat(Long.parseLong(words[1])).isPositive();
        assertThat(words[2]).as("the epoch is the fencing token").isEqualTo(words[1]);
        assertThat(words[3]).isEqualTo("10.0.0.7:8080");
        try (LockClient observer = LockClient.open(backend)) {
            assertThat(observer.election("services/indexer").leader())
                    .as("resigned")
                    .isEmpty();
        }
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void notElectedInTimeIs75AndTheCommandDoesNotRun() throws Exception {
        Path ran = dir.resolve("ran");
        try (LockClient other = LockClient.open(backend);
                Leadership leading = other.election("services/a").campaign("other", AcquireOptions.tryOnce())) {
            int exit = elect("services/a", "--wait", "200ms", "--backend", backend, "--", "touch", ran.toString());
            assertThat(exit).isEqualTo(ExitCodes.NOT_ACQUIRED);
            assertThat(ran).doesNotExist();
            assertThat(err.toString()).contains("not elected in 'services/a' within 200ms");
            assertThat(leading.isValid()).isTrue();
        }
    }

    @Test
    void losingTheLeadershipStopsTheCommandWith76() throws Exception {
        Path pidFile = dir.resolve("pid");
        String runs = "echo $$ > \"$0\"; while :; do sleep 0.05; done";
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> elect(
                "services/b", "--grace", "300ms", "--backend", backend, "--", "sh", "-c", runs, pidFile.toString()));
        await().atMost(Duration.ofSeconds(10))
                .until(() -> Files.exists(pidFile) && !Files.readString(pidFile).isBlank());
        long pid = Long.parseLong(Files.readString(pidFile).strip());
        try (LockClient operator = LockClient.open(backend)) {
            Election.Leader leader = operator.election("services/b").leader().orElseThrow();
            assertThat(operator.admin().revoke("services/b")).isEqualTo(1);
            assertThat(exit.get(10, TimeUnit.SECONDS)).isEqualTo(ExitCodes.LOCK_LOST);
            assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive)).isEmpty();
            assertThat(err.toString())
                    .contains("holdfast elect: lost the leadership of 'services/b' (epoch " + leader.epoch() + ")");
        } finally {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    void aBackendWithoutElectionsAndABadNameAreUsageErrors() {
        assertThat(elect("services/c", "--backend", "fake:elect-" + STORES.incrementAndGet(), "--", "true"))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("elections need");
        assertThat(elect("a/../b", "--backend", backend, "--", "true")).isEqualTo(ExitCodes.USAGE);
        assertThat(elect("services/d", "--backend", backend)).isEqualTo(ExitCodes.USAGE);
    }
}
