package io.holdfast.server.raft;

import io.holdfast.Ticker;
import io.holdfast.core.LockTable;
import io.holdfast.core.PlantedBug;
import java.io.BufferedInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The table's snapshots as files in Ratis's snapshot storage: written whole or not at all, and read
 * back only when they are whole.
 *
 * <p><b>Guarantees.</b> {@link #write} writes to a temporary file, forces it to disk, moves it into
 * place atomically and saves its MD5 beside it, then makes it the storage's latest snapshot: a crash
 * at any moment leaves the previous snapshot the latest. {@link #read} checks that the file exists
 * and matches its saved MD5 before it decodes a byte, and says which file failed and why: a damaged
 * snapshot stops a node with one line, it is never half-loaded. Both are timed on the ticker given:
 * a write for {@link StateMachineHooks#snapshotTaken}, a load on its log line.
 */
final class SnapshotFiles {
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotFiles.class);

    /** A snapshot written: its file's size, and the time from the first byte to its MD5 saved. */
    record Written(long bytes, long nanos) {}

    private SnapshotFiles() {}

    /** Writes the snapshot of the table at {@code last} into {@code storage}. */
    static Written write(SimpleStateMachineStorage storage, TermIndex last, LockTable table, Ticker ticker)
            throws IOException {
        long t0 = ticker.nanos();
        File file = storage.getSnapshotFile(last.getTerm(), last.getIndex());
        File tmp = new File(file.getParentFile(), file.getName() + ".tmp");
        FileSnapshotOutput.write(table, tmp.toPath()); // streamed: no copy of the table's form in memory
        try (FileChannel written = FileChannel.open(tmp.toPath(), StandardOpenOption.WRITE)) {
            written.force(true);
        }
        Files.move(tmp.toPath(), file.toPath(), StandardCopyOption.ATOMIC_MOVE);
        var md5 = MD5FileUtil.computeAndSaveMd5ForFile(file);
        storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(file.toPath(), md5), last));
        return new Written(file.length(), ticker.nanos() - t0);
    }

    /** The table in {@code snapshot}'s file, checked first (see the class comment), and logged with its time. */
    static LockTable read(SingleFileSnapshotInfo snapshot, Set<PlantedBug> bugs, Ticker ticker) throws IOException {
        long t0 = ticker.nanos();
        File file = snapshot.getFile().getPath().toFile();
        if (!file.exists()) {
            throw new IOException("snapshot file " + file + " is missing");
        }
        if (snapshot.getFile().getFileDigest() != null) {
            MD5FileUtil.verifySavedMD5(file, snapshot.getFile().getFileDigest());
        }
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file.toPath()))) {
            LockTable table = LockTable.readSnapshot(in, bugs);
            LOG.info(
                    "Loaded snapshot {} ({} sessions, {} locks) in {} ms",
                    file.getName(),
                    table.sessionCount(),
                    table.resourceCount(),
                    (ticker.nanos() - t0) / 1_000_000);
            return table;
        } catch (IOException e) {
            throw new IOException("snapshot " + file + " cannot be loaded: " + e.getMessage(), e);
        }
    }
}
