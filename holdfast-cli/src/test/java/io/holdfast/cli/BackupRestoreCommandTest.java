package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.server.HoldfastServer;
import io.holdfast.server.Restore;
import io.holdfast.server.ServerConfig;
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
                    .contains("Saved the lock table of cluster " + node.clusterId() + " at log index")
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
            assertThat(client.lock("cli/backup").acquire(Duration.ofSeconds(5)).fencingToken())
                    .isGreaterThan(oldToken + Restore.TOKEN_JUMP);
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
        // Nobody listens: one line naming each address tried, and no file.
        Path none = dir.resolve("none.hfbk");
        assertThat(run(
                        "backup",
                        "--out",
                        none.toString(),
                        "--backend",
                        "holdfast://127.0.0.1:" + freePort(),
                        "--http",
                        "http://127.0.0.1:" + freePort()))
                .isEqualTo(ExitCodes.BACKEND_UNAVAILABLE);
        assertThat(err.toString()).contains("no member sent a backup").hasLineCount(1);
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
}
