package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.server.HoldfastServer;
import io.holdfast.server.backup.Restore;
import io.holdfast.server.config.ServerConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code holdfast backup} from a running node and {@code holdfast restore} into a new node's data
 * directory, as an operator runs them; refusals are one line with their exit code.
 */
class BackupRestoreCommandTest {
    @TempDir
    Path dir;

    private StringWriter out;
    private StringWriter err;

    private int run(String... args) {
        out = new StringWriter();
        err = new StringWriter();
        return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), Map.of())
                .execute(args);
    }

    private static int freePort() throws java.io.IOException {
        return io.holdfast.testkit.FreePorts.next(); // below the kernel's range for automatic ports
    }

    @Test
    void backUpANodeAndStartANewOneFromIt() throws Exception {
        Path file = dir.resolve("backup.hfbk");
        long oldToken;
        int httpPort = freePort();
        ServerConfig first = ServerConfig.single(dir.resolve("old"), "127.0.0.1", freePort(), freePort(), httpPort);
        try (HoldfastServer node = HoldfastServer.start(first);
                LockClient client = LockClient.open("holdfast://127.0.0.1:" + node.clientPort())) {
            Awaitility.await().atMost(Duration.ofSeconds(20)).until(node::isLeader);
            Lease held = client.lock("cli/backup").acquire(Duration.ofSeconds(5));
            oldToken = held.fencingToken();
            assertThat(run(
                            "backup",
                            "--out",
                            file.toString(),
                            "--backend",
                            "holdfast://127.0.0.1:" + node.clientPort(),
                            "--http",
                            "http://127.0.0.1:" + httpPort))
                    .as(err::toString)
                    .isZero();
            assertThat(out.toString())
                    .contains("Saved the lock table of cluster " + node.status().clusterId() + " at log index")
                    .contains("SHA-256 checked")
                    .contains(file.toString());
        }

        Path fresh = dir.resolve("new");
        assertThat(run("restore", file.toString(), "--data-dir", fresh.toString()))
                .as(err::toString)
                .isZero();
        assertThat(out.toString())
                .contains("no sessions")
                .contains("above " + (oldToken + Restore.TOKEN_JUMP))
                .contains("new id");
        assertThat(run("restore", file.toString(), "--data-dir", fresh.toString()))
                .isEqualTo(ExitCodes.SERVER_START_FAILED);
        assertThat(err.toString()).contains("holds Raft data already").hasLineCount(1);

        ServerConfig second = ServerConfig.single(fresh, "127.0.0.1", freePort(), freePort(), -1);
        try (HoldfastServer node = HoldfastServer.start(second);
                LockClient client = LockClient.open("holdfast://127.0.0.1:" + node.clientPort())) {
            Awaitility.await().atMost(Duration.ofSeconds(20)).until(node::isLeader);
            assertThat(client.admin().describe("cli/backup"))
                    .as("the old holder's grant is gone")
                    .isEmpty();
            long newToken =
                    client.lock("cli/backup").acquire(Duration.ofSeconds(5)).fencingToken();
            assertThat(newToken).isGreaterThan(oldToken + Restore.TOKEN_JUMP);
            // Above 2^40: the metric's gauge prints 1.099511627779E12; members prints it exactly.
            assertThat(run("members", "--backend", "holdfast://127.0.0.1:" + node.clientPort()))
                    .as(err::toString)
                    .isZero();
            java.util.regex.Matcher printed =
                    java.util.regex.Pattern.compile("last fencing token (\\d+)").matcher(out.toString());
            assertThat(printed.find()).as(out::toString).isTrue();
            assertThat(printed.group(1)).isEqualTo(Long.toString(newToken));
            // ... and that is what --token-floor takes.
            assertThat(run(
                            "restore",
                            file.toString(),
                            "--data-dir",
                            dir.resolve("floored").toString(),
                            "--token-floor",
                            printed.group(1)))
                    .as(err::toString)
                    .isZero();
            assertThat(out.toString()).contains("above " + newToken);
        }

        Files.writeString(dir.resolve("junk"), "this is not a backup, though it is long enough to be read");
        assertThat(run(
                        "restore",
                        dir.resolve("junk").toString(),
                        "--data-dir",
                        dir.resolve("x").toString()))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("is no Holdfast backup").hasLineCount(1);
        assertThat(run("backup", "--out", file.toString(), "--backend", "mem:x"))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("belong to a Holdfast server").hasLineCount(1);
        // Nobody listens: one line naming each address tried, and no file. The command tries again
        // until --timeout (30 s by default); each try is refused at once, and the last one is named.
        Path none = dir.resolve("none.hfbk");
        assertThat(run(
                        "backup",
                        "--out",
                        none.toString(),
                        "--backend",
                        "holdfast://127.0.0.1:" + freePort(),
                        "--http",
                        "http://127.0.0.1:" + freePort(),
                        "--timeout",
                        "1s"))
                .isEqualTo(ExitCodes.BACKEND_UNAVAILABLE);
        assertThat(err.toString())
                .contains("no member sent a backup")
                .contains("--timeout 1s")
                .hasLineCount(1);
        assertThat(none).doesNotExist();
        assertThat(run(
                        "server",
                        "--backup-every",
                        "1h",
                        "--data-dir",
                        dir.resolve("s").toString()))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString())
                .contains("--backup-every needs --backup-dir DIR")
                .hasLineCount(1);
    }
    /**
     * A follower asked for a backup names the leader's HTTP address (the members report theirs
     * through the log), and the command asks the leader next: three nodes, {@code --http} naming
     * only a follower.
     */
    @Test
    void aBackupAskedOfAFollowerComesFromTheLeader() throws Exception {
        try (LoopbackCluster cluster = new LoopbackCluster(dir)) {
            cluster.awaitLeader();
            HoldfastServer follower = cluster.nodes().stream()
                    .filter(n -> !n.isLeader())
                    .findFirst()
                    .orElseThrow();
            String backend = "holdfast://" + cluster.clientAddress("n1");
            Path file = dir.resolve("from-follower.hfbk");
            // The members report their HTTP ports within seconds of their start.
            Awaitility.await()
                    .atMost(Duration.ofSeconds(20))
                    .pollInterval(Duration.ofMillis(500))
                    .until(() -> run(
                                    "backup",
                                    "--out",
                                    file.toString(),
                                    "--backend",
                                    backend,
                                    "--http",
                                    "http://127.0.0.1:" + follower.httpPort())
                            == 0);
            assertThat(out.toString())
                    .contains("Saved the lock table of cluster")
                    .contains(file.toString());
            assertThat(file).exists();
        }
    }

    /** A file that cannot be written is named as the user gave it, with the cause, before any call. */
    @Test
    void aMissingDirectoryIsNamedWithTheUsersPath() throws Exception {
        Path missing = dir.resolve("no-such-dir").resolve("b.hfbk");
        assertThat(run(
                        "backup",
                        "--out",
                        missing.toString(),
                        "--backend",
                        "holdfast://127.0.0.1:" + freePortUnchecked(),
                        "--http",
                        "http://127.0.0.1:" + freePortUnchecked()))
                .isEqualTo(ExitCodes.CANNOT_CREATE);
        assertThat(err.toString())
                .isEqualTo("holdfast backup: cannot write " + missing + ": directory " + missing.getParent()
                        + " does not exist" + System.lineSeparator());
        Path notADir = Files.writeString(dir.resolve("a-file"), "not a directory");
        assertThat(run(
                        "backup",
                        "--out",
                        notADir.resolve("b.hfbk").toString(),
                        "--backend",
                        "holdfast://127.0.0.1:" + freePortUnchecked()))
                .isEqualTo(ExitCodes.CANNOT_CREATE);
        assertThat(err.toString())
                .contains("cannot write " + notADir.resolve("b.hfbk") + ": " + notADir + " is not a directory")
                .hasLineCount(1);
    }

    private static int freePortUnchecked() {
        return io.holdfast.testkit.FreePorts.next();
    }
}
