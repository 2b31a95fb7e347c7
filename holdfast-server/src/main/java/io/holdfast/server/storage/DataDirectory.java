package io.holdfast.server.storage;

import io.holdfast.internal.Causes;
import io.holdfast.server.config.RaftSettings;
import io.holdfast.server.config.StartupException;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's data directory as the node finds it before Ratis opens it: the Raft directory created
 * and proved writable ({@link #open}), and the Raft log read for damage ({@link #checkLog}, with
 * {@link RaftLogCheck}).
 *
 * <p><b>Guarantees.</b> Each step either succeeds or throws a {@link StartupException} whose one
 * line names the directory or file and the cause; nothing acknowledged is ever dropped (only a
 * write at the very end of the log that a crash interrupted, which was never acknowledged, is cut
 * off). <b>Not guaranteed:</b> that the directory stays writable after the check.
 */
public final class DataDirectory {
    private static final Logger LOG = LoggerFactory.getLogger(DataDirectory.class);

    private DataDirectory() {}

    /** Creates the data directory's Raft directory and checks that it is writable. */
    public static Path open(Path dataDir) throws StartupException {
        Path raftDir = dataDir.resolve("raft");
        try {
            Files.createDirectories(raftDir);
        } catch (IOException | SecurityException e) {
            throw new StartupException("cannot create the data directory " + dataDir + ": " + Causes.rootMessage(e), e);
        }
        File probe = raftDir.resolve(".write-test").toFile();
        try {
            Files.writeString(probe.toPath(), "ok");
            Files.delete(probe.toPath());
        } catch (IOException | SecurityException e) {
            throw new StartupException(
                    "the data directory " + dataDir + " is not writable: " + Causes.rootMessage(e), e);
        }
        return raftDir;
    }

    /**
     * Reads the Raft log before Ratis does ({@link RaftLogCheck}): a write that the crash of this
     * node interrupted at the very end of the log was never acknowledged, and is cut off (one log
     * line, and {@code holdfast_log_tail_repairs_total}); any other damage stops the start with
     * one line that names the file. {@code repaired} runs after a repair (the node counts it).
     */
    public static void checkLog(Path raftDir, RaftProperties properties, Runnable repaired) throws StartupException {
        Path groupDir = raftDir.resolve(RaftSettings.GROUP_ID.getUuid().toString());
        try {
            RaftLogCheck.checkAndRepair(groupDir, RaftServerConfigKeys.Log.Appender.bufferByteLimit(properties))
                    .ifPresent(r -> {
                        LOG.warn(
                                "Repaired a torn write at the end of the Raft log: cut {} at byte {}, dropping {} bytes"
                                        + " (the entry at index {} and anything after it; never acknowledged)",
                                r.file(),
                                r.offset(),
                                r.bytesDropped(),
                                r.index());
                        repaired.run();
                    });
        } catch (RaftLogCheck.Damaged e) {
            throw new StartupException(e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            throw new StartupException("cannot read the Raft log in " + groupDir + ": " + Causes.rootMessage(e), e);
        }
    }
}
