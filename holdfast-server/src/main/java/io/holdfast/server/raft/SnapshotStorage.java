package io.holdfast.server.raft;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;

/**
 * Ratis's single-file snapshot storage, which reads its directory once, at {@link #init}, and
 * then knows its latest snapshot from the snapshots it is told of.
 *
 * <p><b>Why.</b> {@link SimpleStateMachineStorage#getLatestSnapshot()} lists the snapshot
 * directory on every call for as long as it knows no snapshot, and a leader's log appender asks it
 * on every turn of its loop for a follower that does not answer (whether to send a snapshot
 * instead of entries). Before a cluster's first snapshot, with one follower killed, 70% of the
 * leader's CPU samples were in that listing (async-profiler, 2026-12-07); the loop turned without
 * waiting then, which {@code CommitCarrier#getWaitTimeMs} fixed since, but a listing per question
 * stays a cost no caller expects of a getter.
 *
 * <p><b>Guarantees.</b> Every snapshot this node writes comes through {@link
 * #updateLatestSnapshot} ({@code SnapshotFiles.write}), and a snapshot sent by the leader through
 * {@link #loadLatestSnapshot()}, which reads the directory again ({@code
 * LockStateMachine.reinitialize}, before Ratis asks for the snapshot it installed). So {@link
 * #getLatestSnapshot()} answers what the directory holds, from memory, except for a file put there
 * by something else while the node runs: that one is seen at the next start or the next {@link
 * #loadLatestSnapshot()}, never before. Nothing else writes there: a restore ({@code holdfast
 * restore}) seeds a data directory before its node starts.
 */
final class SnapshotStorage extends SimpleStateMachineStorage {
    /** The newest snapshot told of or found; null while there is none. */
    private final AtomicReference<SingleFileSnapshotInfo> latest = new AtomicReference<>();
    /** Whether the directory was read ({@link #init}): from then on {@link #latest} is the answer. */
    private volatile boolean read;

    @Override
    public void init(RaftStorage storage) throws IOException {
        super.init(storage); // reads the directory: getLatestSnapshot → loadLatestSnapshot → updateLatestSnapshot
        read = true;
    }

    @Override
    public SingleFileSnapshotInfo updateLatestSnapshot(SingleFileSnapshotInfo info) {
        if (info == null) {
            return latest.get(); // a scan that found nothing (the base class would fail on it once it knows one)
        }
        super.updateLatestSnapshot(info);
        return latest.accumulateAndGet(
                info,
                (previous, given) -> previous == null || given.getIndex() > previous.getIndex() ? given : previous);
    }

    @Override
    public SingleFileSnapshotInfo getLatestSnapshot() {
        return read ? latest.get() : super.getLatestSnapshot();
    }
}
