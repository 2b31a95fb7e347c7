package io.holdfast.server.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.Ticker;
import io.holdfast.core.LockTable;
import java.io.IOException;
import java.nio.file.Path;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SnapshotStorage} over a real Raft storage directory: it answers the latest snapshot from
 * what it was told and found at start, and reads the directory again only when asked to load (a
 * snapshot sent by the leader). The follower's side of a sent snapshot runs end to end in {@code
 * SnapshotInstallTest}.
 */
class SnapshotStorageTest {
    @TempDir
    Path dir;

    private RaftStorage raft;

    @AfterEach
    void close() throws IOException {
        if (raft != null) {
            raft.close();
        }
    }

    private RaftStorage raftStorage(RaftStorage.StartupOption option) throws IOException {
        RaftStorage storage = RaftStorage.newBuilder()
                .setDirectory(dir.toFile())
                .setOption(option)
                .setStorageFreeSpaceMin(RaftServerConfigKeys.STORAGE_FREE_SPACE_MIN_DEFAULT)
                .build();
        storage.initialize();
        return storage;
    }

    private static void write(SimpleStateMachineStorage storage, long term, long index) throws IOException {
        SnapshotFiles.write(storage, TermIndex.valueOf(term, index), new LockTable(), Ticker.system());
    }

    @Test
    void aSnapshotOnDiskAtStartIsTheLatest() throws IOException {
        raft = raftStorage(RaftStorage.StartupOption.FORMAT);
        SnapshotStorage first = new SnapshotStorage();
        first.init(raft);
        assertThat(first.getLatestSnapshot()).as("an empty directory").isNull();
        write(first, 1, 40);
        write(first, 2, 90);
        raft.close();

        raft = raftStorage(RaftStorage.StartupOption.RECOVER);
        SnapshotStorage again = new SnapshotStorage();
        again.init(raft);
        assertThat(again.getLatestSnapshot().getTermIndex()).isEqualTo(TermIndex.valueOf(2, 90));
        assertThat(again.getLatestSnapshot().getFile().getFileDigest())
                .as("its MD5, read with it")
                .isNotNull();
    }

    @Test
    void aSnapshotWrittenIsTheLatestAtOnceAndAnOlderOneNever() throws IOException {
        raft = raftStorage(RaftStorage.StartupOption.FORMAT);
        SnapshotStorage storage = new SnapshotStorage();
        storage.init(raft);

        write(storage, 1, 50);
        assertThat(storage.getLatestSnapshot().getTermIndex()).isEqualTo(TermIndex.valueOf(1, 50));
        write(storage, 1, 20);
        assertThat(storage.getLatestSnapshot().getTermIndex()).isEqualTo(TermIndex.valueOf(1, 50));
        write(storage, 3, 70);
        assertThat(storage.getLatestSnapshot().getTermIndex()).isEqualTo(TermIndex.valueOf(3, 70));
    }

    /**
     * The point of the class: with no snapshot yet, asking for the latest one does not list the
     * directory (a leader's appender asks on every turn for a follower that is down). A file put
     * there behind its back shows it: Ratis's own storage finds it, this one does not until it is
     * told to load, as after a snapshot the leader sent.
     */
    @Test
    void withNoSnapshotYetItDoesNotListTheDirectoryUntilToldToLoad() throws IOException {
        raft = raftStorage(RaftStorage.StartupOption.FORMAT);
        SnapshotStorage storage = new SnapshotStorage();
        storage.init(raft);
        SimpleStateMachineStorage ratis = new SimpleStateMachineStorage();
        ratis.init(raft);
        assertThat(storage.getLatestSnapshot()).isNull();
        assertThat(ratis.getLatestSnapshot()).isNull();

        SimpleStateMachineStorage elsewhere = new SimpleStateMachineStorage();
        elsewhere.init(raft);
        write(elsewhere, 4, 120); // as a snapshot sent by the leader lands in the directory

        assertThat(ratis.getLatestSnapshot())
                .as("Ratis's storage lists the directory again")
                .isNotNull();
        assertThat(storage.getLatestSnapshot())
                .as("this one answers from memory")
                .isNull();
        assertThat(storage.loadLatestSnapshot().getTermIndex()).isEqualTo(TermIndex.valueOf(4, 120));
        assertThat(storage.getLatestSnapshot().getTermIndex()).isEqualTo(TermIndex.valueOf(4, 120));
    }
}
