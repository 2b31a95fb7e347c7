package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ClientOptions;
import io.holdfast.Leadership;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.server.HoldfastServer;
import io.holdfast.server.config.ServerConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Try-once and short waits of {@code holdfast lock} and {@code holdfast elect} against a real server node on
 * loopback, while a real client holds (issue 51, finding 1: they crashed with a NullPointerException, exit 70,
 * because the client answered a wait of zero on a busy lock with a null lease): exit 75, one line naming the
 * holder, the command not run.
 */
class TryOnceCommandTest {
    @TempDir
    static Path dir;

    private static HoldfastServer server;
    private static String uri;
    private static LockClient ann;
    private static Lease nightly;
    private static Leadership leading;

    private StringWriter err;

    @BeforeAll
    static void start() throws Exception {
        server = HoldfastServer.start(ServerConfig.single(
                dir.resolve("node"),
                "127.0.0.1",
                io.holdfast.testkit.FreePorts.next(),
                io.holdfast.testkit.FreePorts.next(),
                -1));
        uri = "holdfast://127.0.0.1:" + server.clientPort();
        Awaitility.await().atMost(Duration.ofSeconds(20)).until(server::isLeader);
        ann = LockClient.open(
                uri, ClientOptions.builder().clientName("ann@host-a:1").build());
        nightly = ann.lock("jobs/nightly").acquire(Duration.ofSeconds(10));
        leading = ann.election("services/indexer")
                .campaign("host-a:8080", io.holdfast.AcquireOptions.waitUpTo(Duration.ofSeconds(10)));
    }

    @AfterAll
    static void stop() {
        leading.resign();
        nightly.release();
        ann.close();
        server.close();
    }

    private int run(String... args) {
        err = new StringWriter();
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(all.indexOf("--"), List.of("--backend", uri));
        return Main.commandLine(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), Map.of())
                .execute(all.toArray(String[]::new));
    }

    private String line() {
        assertThat(err.toString().lines()).as("one line on stderr").hasSize(1);
        return err.toString().strip();
    }

    @ParameterizedTest
    @ValueSource(strings = {"0s", "1ms", "100ms"})
    void aHeldLockWithAShortWaitIs75NamingTheHolder(String wait) {
        Path ran = dir.resolve("ran-" + wait);

        int exit = run("lock", "jobs/nightly", "--wait", wait, "--", "touch", ran.toString());

        assertThat(exit).as(err.toString()).isEqualTo(ExitCodes.NOT_ACQUIRED);
        assertThat(ran).as("the command did not run").doesNotExist();
        assertThat(line())
                .startsWith(
                        "holdfast lock: 'jobs/nightly' is held by ann@host-a:1 (session " + ann.sessionId() + ") for ")
                .endsWith("; 'jobs/nightly' was not acquired within " + wait + "; the command did not run");
    }

    @Test
    void aSharedTryOfAnExclusivelyHeldLockIs75NamingTheHolder() {
        Path ran = dir.resolve("ran-shared");

        int exit = run("lock", "jobs/nightly", "--shared", "--wait", "0s", "--", "touch", ran.toString());

        assertThat(exit).as(err.toString()).isEqualTo(ExitCodes.NOT_ACQUIRED);
        assertThat(ran).doesNotExist();
        assertThat(line()).contains("'jobs/nightly' is held by ann@host-a:1").contains("not acquired within 0s");
    }

    @Test
    void aMultiNameTryNamesTheNameThatIsHeld() {
        Path ran = dir.resolve("ran-multi");

        int exit = run("lock", "jobs/free", "jobs/nightly", "--wait", "0s", "--", "touch", ran.toString());

        assertThat(exit).as(err.toString()).isEqualTo(ExitCodes.NOT_ACQUIRED);
        assertThat(ran).doesNotExist();
        assertThat(line())
                .startsWith("holdfast lock: 'jobs/nightly' is held by ann@host-a:1")
                .endsWith("'jobs/free', 'jobs/nightly' were not acquired within 0s; the command did not run");
        assertThat(ann.admin()
                        .describe("jobs/free")
                        .map(i -> i.holders().size())
                        .orElse(0))
                .as("all or none: the free name is not kept")
                .isZero();
    }

    /** Several names held: each held one is named with its holder, not only the first. */
    @Test
    void aMultiNameTryNamesEachNameThatIsHeld() throws Exception {
        Path ran = dir.resolve("ran-multi-held");
        try (LockClient bob = LockClient.open(
                        uri, ClientOptions.builder().clientName("bob@host-b:2").build());
                Lease other = bob.lock("jobs/other").acquire(Duration.ofSeconds(10))) {
            int exit = run(
                    "lock", "jobs/nightly", "jobs/free", "jobs/other", "--wait", "0s", "--", "touch", ran.toString());

            assertThat(exit).as(err.toString()).isEqualTo(ExitCodes.NOT_ACQUIRED);
            assertThat(ran).doesNotExist();
            assertThat(line())
                    .startsWith("holdfast lock: 'jobs/nightly' is held by ann@host-a:1 (session " + ann.sessionId())
                    .contains("; 'jobs/other' is held by bob@host-b:2 (session " + bob.sessionId() + ") for ")
                    .doesNotContain("'jobs/free' is held");
        }
    }

    @Test
    void anElectionTryWhileAnotherLeadsIs75NamingTheLeader() {
        Path ran = dir.resolve("ran-elect");

        int exit = run("elect", "services/indexer", "--wait", "0s", "--", "touch", ran.toString());

        assertThat(exit).as(err.toString()).isEqualTo(ExitCodes.NOT_ACQUIRED);
        assertThat(ran).doesNotExist();
        assertThat(line())
                .startsWith("holdfast elect: 'services/indexer' is led by ann@host-a:1 (session " + ann.sessionId())
                .contains("value 'host-a:8080'")
                .endsWith("not elected in 'services/indexer' within 0s; the command did not run");
    }
}
