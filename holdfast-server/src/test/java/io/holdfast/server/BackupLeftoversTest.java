package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ClientOptions;
import io.holdfast.server.backup.BackupFile;
import io.holdfast.server.backup.Backups;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a backup leaves under the data directory ({@code backup-in-progress/}), on a real node: the
 * copy of the table that a crash of the node during a backup left behind is removed at its next
 * start, and a backup in progress is never removed by another one taken meanwhile.
 */
class BackupLeftoversTest {
    @TempDir
    Path dir;

    @Test
    void aCopyThatACrashDuringABackupLeftIsRemovedAtTheNextStart() throws Exception {
        try (TestCluster cluster = new TestCluster(1)) {
            cluster.awaitLeader(Duration.ofSeconds(20));
            Path inProgress = inProgress(cluster);
            cluster.crash(0);
            // As a leader killed while Backups.take wrote its copy leaves it: part of a table file.
            Files.createDirectories(inProgress);
            Path left = Files.write(inProgress.resolve("table-3141592653589793238.tmp"), new byte[64 * 1024]);

            cluster.start(0);
            assertThat(left).doesNotExist();
            assertThat(inProgress).doesNotExist();
            cluster.awaitLeader(Duration.ofSeconds(20));
            BackupRestoreTest.backUp(cluster, dir.resolve("after.hfbk"));
            assertThat(BackupFile.read(dir.resolve("after.hfbk")).header().index())
                    .isPositive();
        }
    }

    @Test
    void aBackupInProgressIsNotRemovedByAnotherTakenMeanwhile() throws Exception {
        try (TestCluster cluster = new TestCluster(1)) {
            HoldfastServer node = cluster.node(cluster.awaitLeader(Duration.ofSeconds(20)));
            cluster.open(ClientOptions.defaults()).register("b/reg").compareAndSet(0, new byte[] {7});
            CountDownLatch copied = new CountDownLatch(1);
            CountDownLatch go = new CountDownLatch(1);
            Path first = dir.resolve("first.hfbk");
            CompletableFuture<BackupFile.Header> slow = CompletableFuture.supplyAsync(() -> {
                try (OutputStream out = Files.newOutputStream(first)) {
                    return Backups.take(node.parts(), System.currentTimeMillis(), out, () -> {
                        copied.countDown();
                        try {
                            go.await(30, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    });
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(copied.await(30, TimeUnit.SECONDS)).isTrue();
            List<Path> during = files(inProgress(cluster));
            assertThat(during).hasSize(1);

            // Another backup from start to end while the first waits to send its copy.
            Path second = dir.resolve("second.hfbk");
            try (OutputStream out = Files.newOutputStream(second)) {
                Backups.take(node.parts(), System.currentTimeMillis(), out, () -> {});
            }
            assertThat(during.get(0)).exists();

            go.countDown();
            long index = slow.get(30, TimeUnit.SECONDS).index();
            assertThat(BackupFile.read(first).header().index()).isEqualTo(index);
            assertThat(BackupFile.read(second).header().index()).isGreaterThanOrEqualTo(index);
            assertThat(files(inProgress(cluster))).isEmpty();
        }
    }

    private static Path inProgress(TestCluster cluster) {
        return cluster.config(0).dataDir().resolve("backup-in-progress");
    }

    private static List<Path> files(Path dir) throws java.io.IOException {
        try (var list = Files.list(dir)) {
            return list.toList();
        }
    }
}
