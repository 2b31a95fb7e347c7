package io.holdfast.server;

import io.holdfast.core.LockTable;
import io.holdfast.model.TableCopy;
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
 * <p>Failure story: restoring into a data directory that already holds Raft data would mix two
 * histories; it is refused with one line, and nothing is written.
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
     * @throws HoldfastServer.StartupException when the directory holds Raft data already, or cannot
     *     be written, in one line
     */
    public static Seeded seed(TableCopy copy, Path dataDir, long tokenFloor)
            throws IOException, HoldfastServer.StartupException {
        LockTable backup = BackupFile.lockTable(copy);
        long floor = Math.max(Math.addExact(backup.lastToken(), TOKEN_JUMP), tokenFloor);
        LockTable restored = backup.restored(floor);
        Path groupDir = dataDir.resolve("raft")
                .resolve(HoldfastServer.GROUP_ID.getUuid().toString());
        if (Files.exists(groupDir)) {
            try (Stream<Path> any = Files.list(groupDir)) {
                if (any.findAny().isPresent()) {
                    throw new HoldfastServer.StartupException(
                            "the data directory " + dataDir + " holds Raft data already: restore into an empty one"
                                    + " (every member of the new cluster from the same backup)",
                            null);
                }
            }
        }
        Files.createDirectories(groupDir);
        long index = Math.max(copy.index(), 0);
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
                restored.writeSnapshot(out);
                out.flush();
                fos.getFD().sync();
            }
            MD5FileUtil.computeAndSaveMd5ForFile(file);
        } finally {
            storage.close();
        }
        return new Seeded(index, restored.lastToken(), restored.stats().registers());
    }
}
