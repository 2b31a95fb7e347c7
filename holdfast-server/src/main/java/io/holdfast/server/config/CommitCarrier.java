package io.holdfast.server.config;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.ratis.grpc.server.GrpcLogAppender;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.leader.FollowerInfo;
import org.apache.ratis.server.leader.LeaderState;
import org.apache.ratis.server.raftlog.RaftLogIOException;
import org.apache.ratis.util.AwaitForSignal;

/**
 * Ratis's gRPC log appender (the leader's sender to one follower) that sends the leader's commit
 * index as soon as it moves, in a heartbeat when it has no entries to carry it ({@link
 * CommitWakeups} says why). Everything else is Ratis's: what it sends, when it retries, how it
 * installs snapshots.
 *
 * <p>Three departures, all about waking:
 *
 * <ul>
 *   <li>Its heartbeat is due at once when the leader has applied an entry past the last commit
 *       index it sent, and it has no entries to send and none on their way (entries carry the
 *       commit index too; a heartbeat sent while entries are on their way carries none). One
 *       heartbeat per applied index at most, since building one records the index it was for.
 *   <li>Its signal is kept until the appender waits ({@link Signal}): Ratis's own drops a signal
 *       sent while the appender is not waiting, so a commit that moved just after the appender
 *       looked (its wait already chosen) waited out a whole heartbeat interval.
 *   <li>It does not spin while its follower does not answer ({@link #getWaitTimeMs}).
 * </ul>
 */
final class CommitCarrier extends GrpcLogAppender {
    private final Signal signal;
    /** The highest commit index the leader has applied and told this appender of. */
    private volatile long wanted = -1;
    /**
     * The highest commit index this appender has put in a request to its follower, or meant to: a
     * heartbeat sent for {@link #wanted} counts as carrying it even where Ratis capped the index it
     * carried at the follower's last entry (the follower then lacks entries, which carry it).
     */
    private volatile long sentCommit = -1;

    CommitCarrier(RaftServer.Division server, LeaderState leader, FollowerInfo follower) {
        super(server, leader, follower);
        this.signal = new Signal(follower.getName());
    }

    /**
     * The leader applied entry {@code index}: unless a request has carried that commit index to the
     * follower already, wake the appender to send it.
     */
    void committed(long index) {
        if (index > wanted) {
            wanted = index; // only the leader's apply thread calls this
        }
        if (sentCommit < index && isRunning()) {
            notifyLogAppender();
        }
    }

    @Override
    public AppendEntriesRequestProto newAppendEntriesRequest(long callId, boolean heartbeat) throws RaftLogIOException {
        long target = wanted;
        AppendEntriesRequestProto request = super.newAppendEntriesRequest(callId, heartbeat);
        if (request != null) { // only this appender's thread builds requests
            long carried = request.getEntriesCount() == 0
                    ? Math.max(request.getLeaderCommit(), target)
                    : request.getLeaderCommit();
            if (carried > sentCommit) {
                sentCommit = carried;
            }
        }
        return request;
    }

    @Override
    public long getHeartbeatWaitTimeMs() {
        if (wanted > sentCommit && !hasAppendEntries() && !hasPendingDataRequests()) {
            return 0;
        }
        return super.getHeartbeatWaitTimeMs();
    }

    /**
     * How long the appender's loop waits before its next turn: Ratis's answer, except that it waits
     * for the next heartbeat when it has nothing to send. Ratis's gRPC appender, once a send to its
     * follower failed, has no stream, and takes "no stream" for "something to send" (its {@code
     * shouldSendAppendEntries}) until the follower has been silent for {@code
     * raft.server.rpc.slowness.timeout} (60 s): its loop then turned without waiting (with
     * {@code waitTimeMin} 0, as {@link RaftSettings} sets it), building a request it dropped on
     * each turn since neither entries nor a heartbeat were due. Measured on 2026-12-07: a leader
     * with one follower killed took 13 to 18% of a core for that minute (2 to 3% with every follower
     * up), 18,000 turns a second. Entries, a heartbeat due, or a commit index to carry still wait
     * for nothing, so nothing is sent later than before.
     */
    @Override
    public long getWaitTimeMs() {
        long wait = super.getWaitTimeMs();
        if (wait > 0 || hasAppendEntries()) {
            return wait;
        }
        return getHeartbeatWaitTimeMs(); // 0 when a heartbeat is due or a commit index must go
    }

    @Override
    public AwaitForSignal getEventAwaitForSignal() {
        return signal;
    }

    /**
     * A signal that is kept until the next wait if nobody waits when it is sent: the wait then
     * returns at once. The appender's loop looks again at what it has to send after every wait, so
     * an extra wake-up costs one look.
     */
    static final class Signal extends AwaitForSignal {
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition signalled = lock.newCondition();
        private boolean pending;

        Signal(Object name) {
            super(name);
        }

        @Override
        public void await() throws InterruptedException {
            lock.lock();
            try {
                while (!pending) {
                    signalled.await();
                }
                pending = false;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public boolean await(long time, TimeUnit unit) throws InterruptedException {
            if (time <= 0) {
                return false;
            }
            lock.lock();
            try {
                long nanos = unit.toNanos(time);
                while (!pending && nanos > 0) {
                    nanos = signalled.awaitNanos(nanos);
                }
                boolean woken = pending;
                pending = false;
                return woken;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void signal() {
            lock.lock();
            try {
                pending = true;
                signalled.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }
}
