package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member removed with {@code holdfast members remove} (a follower, then the leader) stops by
 * itself with exit code 0 and one INFO line saying that it was removed and how to take it back:
 * a deliberate removal is no failure, and a supervisor that restarts failures (systemd's {@code
 * Restart=on-failure}) leaves it stopped. Before issue 51 such a node exited 71 with an ERROR.
 */
class MemberRemovalTest {
    @TempDir
    Path dir;

    @RegisterExtension
    final ServerProcesses.PerTest servers = new ServerProcesses.PerTest();

    private ServerProcesses cluster;

    @Test
    void aRemovedFollowerAndARemovedLeaderExitZeroWithOneInfoLine() throws Exception {
        cluster = servers.start(dir, 3);
        int leader = cluster.awaitLeader(Duration.ofSeconds(60));
        int follower = (leader + 1) % 3;

        assertRemovedCleanly(follower);
        assertRemovedCleanly(cluster.awaitLeader(Duration.ofSeconds(30)));
    }

    private void assertRemovedCleanly(int i) throws Exception {
        String id = "n" + (i + 1);
        Process cli = new ProcessBuilder(
                        ServerProcesses.java(List.of(), "members", "remove", id, "--backend", cluster.clientUri()))
                .redirectErrorStream(true)
                .start();
        String said = new String(cli.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(cli.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(cli.exitValue()).as(said).isZero();

        Process node = cluster.process(i);
        assertThat(node.waitFor(30, TimeUnit.SECONDS))
                .as(id + " stops by itself")
                .isTrue();
        List<String> log = Files.readAllLines(dir.resolve(id + ".log"));
        assertThat(node.exitValue()).as(String.join("\n", log)).isZero();
        assertThat(log)
                .filteredOn(l -> l.contains(" was removed from the cluster"))
                .singleElement()
                .satisfies(l -> assertThat(l)
                        .contains(" INFO ")
                        .contains("Node " + id + " was removed from the cluster (the members are now ")
                        .contains("empty its data directory, start it and add it with holdfast members add"));
        assertThat(log).noneMatch(l -> l.contains(" ERROR ") || l.startsWith("holdfast server: "));
    }
}
