package io.holdfast.server.config;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.leader.LeaderState;

/**
 * Tells the leader's log appenders, one per follower, that its commit index moved, so that each
 * sends the new commit index at once instead of with its next heartbeat.
 *
 * <p><b>Why.</b> A follower applies an entry only once it learns that the entry is committed, and
 * it learns that from the leader's next append. Ratis 3.3.0's gRPC appender sends one when it has
 * entries to send or its heartbeat is due, or when it wakes and finds the follower's commit index
 * behind the leader's, and then it sends only entries: with none to send, nothing goes out until
 * the heartbeat (and nothing wakes it when the leader's commit index moves: the follower's answer
 * that moved it wakes the appender before the leader has counted it). With no further
 * writes behind it, a follower then learnt of a commit a heartbeat later (half the shortest
 * election timeout): a client homed on a follower waited that long for each write it made there,
 * 408 ms for an acquire and a release on three nodes (2026-11-29), against 2.5 ms at the leader.
 * The METADATAENTRY that Ratis appends after each commit by default would wake the appenders, at
 * the cost of a second log entry and fsync per command ({@link RaftSettings}); etcd's Raft
 * broadcasts an append whenever its commit index moves, which is what this does: each appender is
 * a {@code CommitCarrier}, which sends an unsent commit index in a heartbeat when no entries carry
 * it (Ratis's own {@code triggerHeartbeat()} lost triggers that came while a request was built).
 *
 * <p><b>Guarantees.</b> After {@link #committed}, every running appender of the current leadership
 * that has not yet sent that commit index sends it: with its next entries, or in a heartbeat.
 * Nothing about safety depends on it: a follower that is not woken learns the commit index with
 * the next heartbeat, as before. Followers and a leader's earlier terms have no running appenders,
 * and {@link #committed} does nothing there.
 *
 * <p><b>Only gRPC.</b> Ratis's Netty transport ({@link RaftTransport#NETTY}, not for production)
 * is made by Ratis's own factory, whose appenders are not registered here.
 */
public final class CommitWakeups {
    /** The key of the node's instance in the Ratis server's parameters. */
    static final String KEY = "holdfast.raft.commitWakeups";

    private final Map<RaftPeerId, CommitCarrier> appenders = new ConcurrentHashMap<>();
    private volatile LeaderState leadership;

    /** The leader made {@code appender} for a follower (in this leadership or a new one). */
    synchronized void added(LeaderState state, CommitCarrier appender) {
        if (state != leadership) {
            appenders.clear(); // a new term: the last one's appenders are stopped
            leadership = state;
        }
        // A restarted appender, or a member removed and added again, replaces its follower's last.
        appenders.put(appender.getFollowerId(), appender);
    }

    /**
     * The leader's commit index reached {@code index} (called after it applied that entry): each
     * running appender that has not sent that index is woken to send it.
     */
    public void committed(long index) {
        for (CommitCarrier appender : appenders.values()) {
            appender.committed(index);
        }
    }
}
