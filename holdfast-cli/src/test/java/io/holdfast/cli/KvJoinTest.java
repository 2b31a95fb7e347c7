package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.KeyEntry;
import io.holdfast.LockClient;
import io.holdfast.server.HoldfastServer;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.testkit.FreePorts;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code holdfast kv join} keeps the join rule of every client (issue 70, item 3), against a real server on loopback:
 * a second command joining a member name a live session holds is refused (75, one line naming the holder) and
 * changes nothing; once the holder's session ends, the name is free.
 */
class KvJoinTest {
    @TempDir
    Path dir;

    private HoldfastServer node;

    @AfterEach
    void stop() {
        if (node != null) {
            node.close();
        }
    }

    @Test
    void aMemberNameHeldByAnotherLiveSessionIsRefusedAndFreeOnceItEnds() throws Exception {
        String uri = startOne();
        CliRun first = new CliRun("kv", "join", "services/web", "i-1", "10.0.0.1:80", "--backend", uri);
        String holder = Awaitility.await()
                .atMost(Duration.ofSeconds(20))
                .until(() -> key(uri).map(KeyEntry::owner).orElse(null), o -> o != null);

        CliRun second = new CliRun("kv", "join", "services/web", "i-1", "10.0.0.2:80", "--backend", uri);
        assertThat(second.exitWithin(Duration.ofSeconds(20))).isEqualTo(ExitCodes.NOT_ACQUIRED);
        assertThat(second.err.toString().lines())
                .singleElement()
                .asString()
                .isEqualTo("holdfast kv join: member i-1 of group services/web is held by session " + holder
                        + " (CONFLICT)");
        assertThat(second.lines()).isEmpty();
        assertThat(key(uri).orElseThrow().text()).as("nothing written").isEqualTo("10.0.0.1:80");
        assertThat(first.exit).as("the holder goes on").isNotDone();

        CliRun end = new CliRun("sessions", "end", holder, "--backend", uri);
        assertThat(end.exitWithin(Duration.ofSeconds(20))).as(end.err::toString).isZero();
        assertThat(first.exitWithin(Duration.ofSeconds(10))).isEqualTo(ExitCodes.BACKEND_UNAVAILABLE);
        assertThat(first.lines()).containsExactly("services/web/i-1 version 1");

        CliRun third = new CliRun("kv", "join", "services/web", "i-1", "10.0.0.3:80", "--for", "1s", "--backend", uri);
        assertThat(third.exitWithin(Duration.ofSeconds(20)))
                .as(third.err::toString)
                .isZero();
        assertThat(third.lines()).containsExactly("services/web/i-1 version 1");
        assertThat(key(uri)).as("gone with the session that --for ended").isEmpty();
    }

    @Test
    void aMemberNameWithASlashIsAUsageError() throws Exception {
        String uri = startOne();
        CliRun bad = new CliRun("kv", "join", "services/web", "a/b", "--backend", uri);
        assertThat(bad.exitWithin(Duration.ofSeconds(20))).isEqualTo(ExitCodes.USAGE);
        assertThat(bad.err.toString()).contains("a member name has no '/': a/b");
    }

    private static Optional<KeyEntry> key(String uri) {
        try (LockClient reader = LockClient.open(uri)) {
            return reader.keys().get("services/web/i-1");
        }
    }

    private String startOne() throws Exception {
        node = HoldfastServer.start(
                ServerConfig.single(dir.resolve("n1"), "127.0.0.1", FreePorts.next(), FreePorts.next(), -1));
        Awaitility.await().atMost(Duration.ofSeconds(20)).until(node::isLeader);
        return "holdfast://127.0.0.1:" + node.clientPort();
    }
}
