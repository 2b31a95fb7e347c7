package io.holdfast.server;

import static io.holdfast.server.MembershipTest.admin;
import static io.holdfast.server.MembershipTest.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ClientOptions;
import io.holdfast.client.internal.ClusterTransport;
import io.holdfast.model.MembershipChange;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.config.StartupException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A node restarted with a data directory whose recorded members do not count it refuses to start,
 * in one line that says which of two things happened, as its own data shows: it was removed (a
 * configuration in its log counted it), or it was brought up to date by a {@code holdfast members
 * add} that never completed (none did). Real nodes on loopback.
 */
class NotAMemberRefusalTest {
    @Test
    void aRemovedLeaderRestartedWithItsDataIsToldItIsNoLongerAMember() throws Exception {
        try (TestCluster cluster = new TestCluster(2);
                ClusterTransport admin = admin(cluster)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            String id = "n" + (leader + 1);
            get(admin.changeMembers(null, new MembershipChange.Remove(id)));
            cluster.node(leader).removed().get(20, TimeUnit.SECONDS);
            cluster.stop(leader);

            assertThatThrownBy(() -> cluster.start(leader))
                    .isInstanceOf(StartupException.class)
                    .hasMessageStartingWith(
                            "node " + id + " is no longer a member of its cluster (the members recorded in "
                                    + cluster.config(leader).dataDir() + " are n" + (2 - leader) + ")")
                    .hasMessageContaining("empty its data directory and add it again with holdfast members add")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        }
    }

    /**
     * What a staged node keeps: {@code holdfast members add} has the leader send the new node its log
     * before the configuration that counts it is written, and an addition that stops there (the
     * leader killed, the node stopped) leaves the node with the leader's entries and its recorded
     * configuration, none of which counts the node. Its data directory here is that: the leader's
     * Raft log, copied as Ratis would have sent it.
     */
    @Test
    void aNodeStagedButNeverAddedIsToldSoAndWhatToDo() throws Exception {
        try (TestCluster cluster = TestCluster.withMembers(2, 1)) {
            cluster.awaitLeader(Duration.ofSeconds(20));
            cluster.open(ClientOptions.defaults()).register("s/reg").compareAndSet(0, new byte[] {1});
            cluster.stop(0);
            copy(
                    cluster.config(0).dataDir().resolve("raft"),
                    cluster.config(1).dataDir().resolve("raft"));

            ServerConfig.Peer self = cluster.config(1).self();
            assertThatThrownBy(() -> cluster.start(1))
                    .isInstanceOf(StartupException.class)
                    .hasMessageStartingWith("node n2 was never added to its cluster: a holdfast members add brought it"
                            + " up to date, but did not complete (no configuration in its log counts it; the members"
                            + " recorded in " + cluster.config(1).dataDir() + " are n1)")
                    .hasMessageContaining("empty its data directory, start it, and run holdfast members add n2="
                            + self.host() + ":" + self.raftPort() + ":" + self.clientPort() + " on the cluster")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        }
    }

    private static void copy(Path from, Path to) throws java.io.IOException {
        try (var walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else if (!p.getFileName().toString().equals("in_use.lock")) {
                    Files.copy(p, target);
                }
            }
        }
    }
}
