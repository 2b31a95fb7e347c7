package io.holdfast.server.backup;

import io.holdfast.core.LockTable;
import io.holdfast.server.config.RaftSettings;
import io.holdfast.server.config.StartupException;
import io.holdfast.server.membership.ClusterIdentity;
import java.io.BufferedOutputStream;
import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.util.MD5FileUtil;

/**
 * Seeds a node's empty data directory from a backup ({@code holdfast restore}), so that a new
 * cluster starts from the table in it: every member of the new cluster is seeded from the same
 * file, then started with its {@code --peers} as for a first start. The seed is a Ratis snapshot of
 * the table at the backup's log index (with term 1, the lowest Ratis counts as a log entry's), in
 * storage that Ratis itself formatted; the node loads it as it loads any snapshot.
 *
 * <p>What the new cluster starts with is not the backup's table but {@link LockTable#restored}: the
 * registers and access rules, no session (so no hold and no wait: their clients belong to the old
 * cluster and cannot know the new one), and fencing tokens that start above a floor. The floor is
 * the backup's last token plus {@value #TOKEN_JUMP} (2^40: a cluster granting 10,000 locks a
 * second for three years stays below it), or a higher floor the operator gives, so that every token
 * the new cluster grants is above every token the old one granted, before the backup and after it.
 * A resource fenced by tokens therefore refuses the old cluster's holders once a new holder has
 * written.
 *
 * <p>The restored cluster is a new cluster: the seed holds no cluster id ({@code
 * ClusterIdentity}), so its first leader creates a new one, and the nodes of the old cluster,
 * whose data holds the old id, refuse to join it.
 *
 * <p>Failure story: restoring into a data directory that already holds a cluster's data (its id,
 * or Raft data: a member's directory, running or not) would mix two histories; it is refused with
 * one line, and nothing is written.
 */
public final class Restore {
    /** How far above the backup's last token the restored cluster's tokens start, at least. */
    public static final long TOKEN_JUMP = 1L << 40;

    private Restore() {}

    /** What was seeded: the log index of the snapshot and the restored table's last token. */
    public record Seeded(long index, long lastToken, int registers) {}

    /**
     * Writes the seed into {@code dataDir}.
     *
     * @param tokenFloor the operator's floor for the new tokens (0: the backup's last token plus
     *     {@link #TOKEN_JUMP})
     * @throws StartupException when the directory holds a cluster's data already
     *     (its id, Raft data), or cannot be written, in one line
     */
    public static Seeded seed(BackupFile.Verified backup, Path dataDir, long tokenFloor)
            throws IOException, StartupException {
        LockTable table = backup.table();
        long floor = Math.max(Math.addExact(table.lastToken(), TOKEN_JUMP), tokenFloor);
        LockTable restored = table.restored(floor);
        long index = Math.max(backup.header().index(), 0);
        seedTable(restored, index, dataDir);
        return new Seeded(index, restored.lastToken(), restored.stats().registers());
    }

    /**
     * Writes {@code table} into the empty data directory {@code dataDir} as a Ratis snapshot at log
     * index {@code index}: the node started there begins with it.
     */
    public static void seedTable(LockTable table, long index, Path dataDir) throws IOException, StartupException {
        java.util.Optional<java.util.UUID> id = ClusterIdentity.read(dataDir);
        if (id.isPresent()) {
            throw new StartupException(
                    "the data directory " + dataDir + " belongs to cluster " + id.get()
                            + " (a member's data): restore into an empty one (every member of the new cluster"
                            + " from the same backup)",
                    null);
        }
        Path groupDir =
                dataDir.resolve("raft").resolve(RaftSettings.GROUP_ID.getUuid().toString());
        if (Files.exists(groupDir)) {
            try (Stream<Path> any = Files.list(groupDir)) {
                if (any.findAny().isPresent()) {
                    throw new StartupException(
                            "the data directory " + dataDir + " holds Raft data already: restore into an empty one"
                                    + " (every member of the new cluster from the same backup)",
                            null);
                }
            }
        }
        Files.createDirectories(groupDir);
        RaftStorage storage = RaftStorage.newBuilder()
                .setDirectory(groupDir.toFile())
                .setOption(RaftStorage.StartupOption.FORMAT)
                .setStorageFreeSpaceMin(RaftServerConfigKeys.STORAGE_FREE_SPACE_MIN_DEFAULT)
                .build();
        try {
            storage.initialize();
            SimpleStateMachineStorage sm = new SimpleStateMachineStorage();
            sm.init(storage);
            // Term 1: Ratis takes a voter whose last entry has term 0 for one with an empty log, and
            // refuses it a vote; any term the new cluster elects is 1 or more, so none is below it.
            File file = sm.getSnapshotFile(1, index);
            try (FileOutputStream fos = new FileOutputStream(file);
                    BufferedOutputStream out = new BufferedOutputStream(fos, 1 << 16)) {
                table.writeSnapshot(out);
                out.flush();
                fos.getFD().sync();
            }
            MD5FileUtil.computeAndSaveMd5ForFile(file);
        } finally {
            storage.close();
        }
    }
}
