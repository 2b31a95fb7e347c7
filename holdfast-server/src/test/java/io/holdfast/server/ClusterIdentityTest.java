package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.core.LockTable;
import io.holdfast.server.backup.BackupFile;
import io.holdfast.server.backup.Restore;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.config.StartupException;
import io.holdfast.server.membership.ClusterIdentity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cluster's identity ({@link ClusterIdentity}): created by the first leader and kept in every
 * member's data directory and every backup; a restore makes a new cluster with a new id; a node
 * whose data belongs to another cluster refuses to join; data of a build without ids gets one.
 */
class ClusterIdentityTest {
    @TempDir
    Path dir;

    @Test
    void everyMemberKeepsTheFirstLeadersIdAndABackupCarriesIt() throws Exception {
        try (TestCluster c = new TestCluster(3)) {
            c.awaitLeader(Duration.ofSeconds(20));
            UUID id = BackupRestoreTest.awaitClusterId(c.node(0));
            for (int i = 0; i < 3; i++) {
                HoldfastServer node = c.node(i);
                assertThat(BackupRestoreTest.awaitClusterId(node)).isEqualTo(id);
                assertThat(Files.readString(c.config(i).dataDir().resolve(ClusterIdentity.FILE))
                                .strip())
                        .isEqualTo(id.toString());
            }
            assertThat(BackupRestoreTest.backUp(c, dir.resolve("b.hfbk")).clusterId())
                    .isEqualTo(id);
            assertThat(BackupFile.read(dir.resolve("b.hfbk")).header().clusterId())
                    .isEqualTo(id);
            // A restart keeps it, and a new leader proposes none of its own.
            int leader = c.leaderIndex();
            c.stop(leader);
            c.start(leader);
            int next = c.awaitLeader(Duration.ofSeconds(30));
            assertThat(BackupRestoreTest.awaitClusterId(c.node(leader))).isEqualTo(id);
            assertThat(c.node(next).status().clusterId()).isEqualTo(id);
        }
    }

    @Test
    void aRestoredClusterGetsANewId() throws Exception {
        Path file = dir.resolve("b.hfbk");
        UUID old;
        try (TestCluster c = new TestCluster(1)) {
            c.awaitLeader(Duration.ofSeconds(20));
            old = BackupRestoreTest.awaitClusterId(c.node(0));
            BackupRestoreTest.backUp(c, file);
        }
        Path fresh = dir.resolve("fresh");
        Restore.seed(BackupFile.read(file), fresh, 0);
        assertThat(fresh.resolve(ClusterIdentity.FILE))
                .as("the seed holds no id")
                .doesNotExist();
        try (HoldfastServer node = HoldfastServer.start(
                ServerConfig.single(fresh, "127.0.0.1", TestCluster.freePort(), TestCluster.freePort(), -1))) {
            UUID restored = BackupRestoreTest.awaitClusterId(node);
            assertThat(restored).isNotEqualTo(old);
            assertThat(Files.readString(fresh.resolve(ClusterIdentity.FILE)).strip())
                    .isEqualTo(restored.toString());
        }
    }

    @Test
    void aNodeWithAnotherClustersDataRefusesToJoin() throws Exception {
        int p1 = TestCluster.freePort();
        int p2 = TestCluster.freePort();
        ServerConfig.Peer n1 = new ServerConfig.Peer("127.0.0.1", p1, TestCluster.freePort());
        ServerConfig.Peer n2 = new ServerConfig.Peer("127.0.0.1", p2, TestCluster.freePort());
        // n2 ran alone: its data belongs to a cluster of its own.
        UUID theirs;
        Path n2Data = dir.resolve("n2");
        try (HoldfastServer alone = HoldfastServer.start(config("n2", Map.of("n2", n2), n2Data))) {
            theirs = BackupRestoreTest.awaitClusterId(alone);
        }
        try (HoldfastServer cluster = HoldfastServer.start(config("n1", Map.of("n1", n1), dir.resolve("n1")))) {
            UUID id = BackupRestoreTest.awaitClusterId(cluster);
            Map<String, ServerConfig.Peer> both = new LinkedHashMap<>();
            both.put("n1", n1);
            both.put("n2", n2);
            assertThatThrownBy(() ->
                            HoldfastServer.start(config("n2", both, n2Data)).close())
                    .isInstanceOf(StartupException.class)
                    .hasMessage("the data in " + n2Data + " belongs to cluster " + theirs + " but n1 belongs to"
                            + " cluster " + id + ": node n2 refuses to join another cluster's members (check --peers"
                            + " and --data-dir; docs/operations.md)");
            assertThat(cluster.status().clusterId()).isEqualTo(id);
        }
    }

    @Test
    void dataOfABuildWithoutIdsGetsOneWithoutARefusal() throws Exception {
        // What a build before ids leaves: Raft data, a table without an id, no id file.
        Path data = dir.resolve("old-build");
        Restore.seedTable(new LockTable(), 7, data);
        try (HoldfastServer node = HoldfastServer.start(
                ServerConfig.single(data, "127.0.0.1", TestCluster.freePort(), TestCluster.freePort(), -1))) {
            UUID id = BackupRestoreTest.awaitClusterId(node);
            Awaitility.await()
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> Files.exists(data.resolve(ClusterIdentity.FILE)));
            assertThat(ClusterIdentity.read(data)).contains(id);
        }
    }

    private static ServerConfig config(String id, Map<String, ServerConfig.Peer> peers, Path data) {
        return new ServerConfig(
                id, peers, data, "127.0.0.1", peers.get(id).clientPort(), -1, true, Duration.ofMillis(400));
    }
}
