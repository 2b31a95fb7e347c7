package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ClientOptions;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.server.backup.BackupFile;
import io.holdfast.server.backup.Backups;
import io.holdfast.server.backup.Restore;
import io.holdfast.server.config.StartupException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A backup taken from a running three-node cluster under load, restored into a fresh three-node
 * cluster: the registers are there, no session of the old cluster holds anything, and every token
 * the new cluster grants is above every token the old one granted, after the backup too.
 */
class BackupRestoreTest {
    private static final ClientOptions OPTIONS =
            ClientOptions.builder().sessionTtl(Duration.ofSeconds(15)).build();

    @TempDir
    Path dir;

    @Test
    void aBackupUnderLoadRestoresIntoAFreshClusterWithTokensAboveAndNoOldHolds() throws Exception {
        Path file = dir.resolve("cluster.hfbk");
        long lastOldToken;
        Lease held;
        try (TestCluster old = new TestCluster(3)) {
            old.awaitLeader(Duration.ofSeconds(20));
            LockClient client = old.open(OPTIONS);
            held = client.lock("b/held").acquire(Duration.ofSeconds(10));
            client.register("b/reg").compareAndSet(0, new byte[] {4, 2});
            try (MembershipTest.Load load = new MembershipTest.Load(old, 2, 3)) {
                load.awaitProgress();
                backUp(old, file);
                load.awaitProgress(); // the old cluster grants more after the backup
                load.assertSafe();
            }
            lastOldToken = client.lock("b/last").acquire(Duration.ofSeconds(10)).fencingToken();
            assertThat(lastOldToken).isGreaterThan(held.fencingToken());
        }

        BackupFile.Verified read = BackupFile.read(file);
        assertThat(read.header().index()).isPositive();
        try (TestCluster fresh = new TestCluster(3, 0)) {
            for (int i = 0; i < 3; i++) {
                Restore.Seeded seeded = Restore.seed(read, fresh.config(i).dataDir(), 0);
                assertThat(seeded.lastToken()).isGreaterThan(lastOldToken);
            }
            for (int i = 0; i < 3; i++) {
                fresh.start(i);
            }
            fresh.awaitLeader(Duration.ofSeconds(30));
            LockClient client = fresh.open(OPTIONS);
            assertThat(client.register("b/reg").get().orElseThrow().value()).containsExactly(4, 2);
            assertThat(client.admin().describe("b/held"))
                    .as("no hold of the old cluster")
                    .isEmpty();
            Lease next = client.lock("b/held").acquire(Duration.ofSeconds(10));
            assertThat(next.fencingToken())
                    .isGreaterThan(lastOldToken)
                    .isGreaterThan(held.fencingToken() + Restore.TOKEN_JUMP);
            // Sessions are answered by the leader only, and it may change (a member that starts
            // late calls an election): ask whichever leads, until one answers.
            org.awaitility.Awaitility.await()
                    .atMost(Duration.ofSeconds(30))
                    .ignoreExceptionsInstanceOf(java.util.concurrent.ExecutionException.class)
                    .untilAsserted(() -> assertThat(fresh.node(fresh.awaitLeader(Duration.ofSeconds(30)))
                                    .lockService()
                                    .sessions(null, null, 100)
                                    .get(10, TimeUnit.SECONDS)
                                    .sessions())
                            .as("only the new client's session")
                            .hasSize(1));
            // The replicas agree: each was seeded with the same table.
            org.awaitility.Awaitility.await()
                    .atMost(Duration.ofSeconds(20))
                    .untilAsserted(
                            () -> assertThat(fresh.node(1).parts().machine().digest())
                                    .isEqualTo(fresh.node(0).parts().machine().digest()));
        }
    }

    @Test
    void aDamagedOrForeignBackupIsRefusedInOneLineAndAUsedDataDirectoryToo() throws Exception {
        Path file = dir.resolve("b.hfbk");
        try (TestCluster c = new TestCluster(1)) {
            c.awaitLeader(Duration.ofSeconds(20));
            c.open(OPTIONS).lock("x").acquire(Duration.ofSeconds(10));
            backUp(c, file);
            // A live member's data directory: refused in one line naming its cluster, and untouched.
            java.util.UUID id = awaitClusterId(c.node(0));
            List<Path> before = listing(c.config(0).dataDir());
            assertThatThrownBy(() ->
                            Restore.seed(BackupFile.read(file), c.config(0).dataDir(), 0))
                    .isInstanceOf(StartupException.class)
                    .hasMessageContaining("belongs to cluster " + id)
                    .hasMessageNotContaining("\n");
            assertThat(listing(c.config(0).dataDir())).isEqualTo(before);
        }
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 1; // one bit, in the table
        Files.write(file, bytes);
        Path target = dir.resolve("target");
        assertThatThrownBy(() -> Restore.seed(BackupFile.read(file), target, 0))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage(file + " is damaged or truncated (its SHA-256 does not match)");
        assertThat(target).as("nothing restored").doesNotExist();
        bytes[bytes.length / 2] ^= 1;
        bytes[bytes.length - 1] ^= 1; // one bit, in the checksum
        Files.write(file, bytes);
        assertThatThrownBy(() -> BackupFile.read(file))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("damaged or truncated (its SHA-256 does not match)");
        bytes[bytes.length - 1] ^= 1;
        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 10));
        assertThatThrownBy(() -> BackupFile.read(file))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("damaged or truncated");
        Files.write(file, bytes);
        assertThat(BackupFile.read(file).table().stats().holds())
                .as("the undamaged file reads")
                .isEqualTo(1);
        Files.writeString(file, "not a backup at all, but long enough to be read as one");
        assertThatThrownBy(() -> BackupFile.read(file))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("is no Holdfast backup");
    }

    /** Writes a backup of the cluster, taken by whichever node leads, to {@code file}. */
    static BackupFile.Header backUp(TestCluster cluster, Path file) {
        BackupFile.Header[] header = new BackupFile.Header[1];
        org.awaitility.Awaitility.await()
                .atMost(Duration.ofSeconds(30))
                .ignoreExceptions()
                .until(() -> {
                    HoldfastServer leader = cluster.node(cluster.awaitLeader(Duration.ofSeconds(20)));
                    try (java.io.OutputStream out = Files.newOutputStream(file)) {
                        header[0] = Backups.take(leader.parts(), System.currentTimeMillis(), out, () -> {});
                    }
                    return true;
                });
        return header[0];
    }

    /** The cluster id of {@code node}, once its cluster has one. */
    static java.util.UUID awaitClusterId(HoldfastServer node) {
        return org.awaitility.Awaitility.await()
                .atMost(Duration.ofSeconds(20))
                .until(() -> node.status().clusterId(), java.util.Objects::nonNull);
    }

    private static List<Path> listing(Path dir) throws java.io.IOException {
        try (var walk = Files.walk(dir)) {
            return walk.filter(p -> !p.toString().contains("backup-in-progress"))
                    .sorted()
                    .toList();
        }
    }
}
