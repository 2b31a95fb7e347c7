package io.holdfast.server.backup;

import io.holdfast.internal.Causes;
import io.holdfast.server.node.NodeParts;
import io.holdfast.server.raft.ClusterIdRecord;
import io.holdfast.server.raft.FileSnapshotOutput;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes one backup of a node's lock table and writes it to a stream in {@link BackupFile}'s
 * format: what {@code GET /api/v1/backup} sends and what a scheduled backup saves.
 *
 * <p><b>Guarantees.</b> Only the leader takes one, after a read barrier, so the copy holds every
 * write acknowledged before it was asked for, at one log index. The table is written first to a
 * file under the data directory ({@code backup-in-progress/}), with the table locked only while
 * that file is written (as for a Ratis snapshot), then copied to the stream: a slow reader never
 * holds the table, and the node's memory does not grow with it. The file is deleted afterwards,
 * whatever happens; each backup has a file of its own, so backups taken at once never touch each
 * other's. A file that a crash of the node left behind is deleted at the node's next start ({@link
 * #removeLeftovers}).
 *
 * <p><b>Not guaranteed.</b> That the stream's reader got it all: the caller learns of its own write
 * errors; a reader learns of a cut by the missing checksum.
 *
 * <p>Failure story: the leader's disk fills while the copy is written. The call fails with the
 * disk's error before a byte reaches the stream, and the partial file is deleted.
 */
public final class Backups {
    private static final Logger LOG = LoggerFactory.getLogger(Backups.class);

    /** Under the data directory: where each backup writes its copy of the table. */
    static final String IN_PROGRESS = "backup-in-progress";

    /** How long the read barrier before the copy may take. */
    public static final Duration BARRIER_TIMEOUT = Duration.ofSeconds(30);

    private Backups() {}

    /**
     * Where a node's backups to an object store keep their local copy while it uploads: under the
     * data directory, so what a crash leaves there is deleted at the next start ({@link
     * #removeLeftovers}).
     */
    public static Path scratch(Path dataDir) {
        return dataDir.resolve(IN_PROGRESS);
    }

    /**
     * Takes a backup of {@code node} and writes it to {@code out}, calling {@code beforeFirstByte}
     * once the copy is taken and before anything is written. Does not close {@code out}.
     *
     * @param nowMillis when it is taken, by the wall clock (for people: the file's header)
     * @throws ExecutionException as the read barrier fails (not the leader, no quorum)
     * @throws TimeoutException when the barrier takes longer than {@link #BARRIER_TIMEOUT}
     */
    public static BackupFile.Header take(NodeParts node, long nowMillis, OutputStream out, Runnable beforeFirstByte)
            throws IOException, InterruptedException, ExecutionException, TimeoutException {
        Path dir = node.config().dataDir().resolve(IN_PROGRESS);
        Files.createDirectories(dir);
        Path table = Files.createTempFile(dir, "table-", ".tmp");
        try {
            // On the leader, after a read barrier: the copy holds every write acknowledged before
            // the call. It is made on this thread, not on Ratis's.
            node.gateway()
                    .afterBarrier(() -> Boolean.TRUE)
                    .get(BARRIER_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            BackupFile.Header header = node.machine().readWithLast((t, last) -> {
                FileSnapshotOutput.write(t, table); // streamed: no copy of the table's form in memory
                return new BackupFile.Header(
                        last == null ? -1 : last.getIndex(),
                        last == null ? 0 : last.getTerm(),
                        nowMillis,
                        ClusterIdRecord.inTable(t).orElse(null),
                        Files.size(table));
            });
            beforeFirstByte.run();
            try (InputStream in = Files.newInputStream(table)) {
                BackupFile.write(header, in, out);
            }
            return header;
        } finally {
            Files.deleteIfExists(table);
        }
    }

    /**
     * Deletes {@code backup-in-progress/} and what backups that the node's crash interrupted left
     * in it (a copy of the table each, as large as the table). Only for a node's start, once Ratis
     * holds the data directory's lock and before the node serves: no backup of this node can be in
     * progress then, and no other process runs on the directory. A file that cannot be deleted is
     * logged in one WARN line and left; the node starts anyway.
     */
    public static void removeLeftovers(Path dataDir) {
        Path dir = dataDir.resolve(IN_PROGRESS);
        if (!Files.isDirectory(dir)) {
            return;
        }
        long files = 0;
        long bytes = 0;
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                if (Files.isRegularFile(p)) {
                    bytes += Files.size(p);
                    files++;
                }
                Files.delete(p);
            }
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("Could not delete what an interrupted backup left in {}: {}", dir, Causes.rootMessage(e));
            return;
        }
        if (files > 0) {
            LOG.info(
                    "Deleted {} in {} ({} bytes): the copy of the table a backup interrupted by a stop of this node"
                            + " left behind",
                    files == 1 ? "1 file" : files + " files",
                    dir,
                    bytes);
        }
    }
}
