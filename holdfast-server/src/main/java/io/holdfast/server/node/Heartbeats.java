package io.holdfast.server.node;

import io.holdfast.UnavailableException;
import io.holdfast.model.NotLeaderException;
import io.holdfast.server.leadership.HeartbeatVerdicts;
import io.holdfast.server.raft.TableQuery.TouchSessions.Verdict;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's verdict on heartbeats: one that a client sent to it, or a round that a member
 * relays for the clients it serves (ADR 0003). One rule for both.
 *
 * <p><b>Guarantees.</b> A heartbeat is {@link Verdict#ACKED} only when this node leads, its table
 * knows the session, it holds its lease (a majority answered it within the lease, so no other
 * leader can have been elected since), and the session's expiry is not in flight; its deadline
 * then moves to a TTL from now. The client counts its TTL from the heartbeat's sending, which was
 * before now, so the leader's deadline is never the earlier of the two.
 *
 * <p><b>Does not</b> answer clients: the caller turns verdicts into replies (a relayed round's go
 * back to the member that sent it).
 *
 * <p><b>A failure it rules out.</b> A leader cut off from the others goes on taking itself for the
 * leader for up to an election timeout; without the lease check, a round it acknowledged in that
 * time would let clients count on TTLs that a newer leader does not know of, and that leader could
 * expire the sessions and hand their locks on while the clients still count them held.
 */
public final class Heartbeats {
    private static final Logger LOG = LoggerFactory.getLogger(Heartbeats.class);
    /** A relayed round answered slower than this is logged (one line a second at most). */
    static final long SLOW_ROUND_MILLIS = 250;

    private final NodeParts parts;
    /** Slow rounds since the last line: count, and the slowest's millis and sessions; and when last logged. */
    private int slowRounds;

    private long slowestMillis;
    private int slowestSize;
    private long slowLoggedNanos = Long.MIN_VALUE / 2;

    Heartbeats(NodeParts parts) {
        this.parts = parts;
    }

    /**
     * A relayed round's answer: the verdicts ({@link #touch}), or why this node refuses the round
     * (it does not lead, or leads without its lease). The one rule for a round that came over the
     * Raft port from a member and for one of this node's own relay, which it answers here once it
     * leads ({@link LeaderAsks}).
     */
    io.holdfast.server.raft.TableQuery.TouchSessions.Answer round(List<String> sessionIds) {
        long began = parts.ticker().nanos();
        try {
            return io.holdfast.server.raft.TableQuery.TouchSessions.Answer.of(touch(sessionIds));
        } catch (RuntimeException e) {
            return io.holdfast.server.raft.TableQuery.TouchSessions.Answer.refused(
                    io.holdfast.internal.Causes.rootMessage(e));
        } finally {
            tookLong(sessionIds.size(), began);
        }
    }

    /**
     * Logs rounds that took longer than {@value #SLOW_ROUND_MILLIS} ms to answer here, one line a
     * second at most: a member's clients wait that long, round after round, when it relays a backlog.
     */
    private synchronized void tookLong(int size, long began) {
        long now = parts.ticker().nanos();
        long millis = TimeUnit.NANOSECONDS.toMillis(now - began);
        if (millis < SLOW_ROUND_MILLIS && slowRounds == 0) {
            return;
        }
        if (millis >= SLOW_ROUND_MILLIS) {
            slowRounds++;
            if (millis > slowestMillis) {
                slowestMillis = millis;
                slowestSize = size;
            }
        }
        if (now - slowLoggedNanos >= TimeUnit.SECONDS.toNanos(1)) {
            LOG.info(
                    "Node {} answered {} relayed rounds in {} ms or more each since it last said so (the slowest: {}"
                            + " sessions in {} ms)",
                    parts.config().nodeId(),
                    slowRounds,
                    SLOW_ROUND_MILLIS,
                    slowestSize,
                    slowestMillis);
            slowLoggedNanos = now;
            slowRounds = 0;
            slowestMillis = 0;
        }
    }

    /**
     * The verdicts on a round of heartbeats, in its order.
     *
     * @throws NotLeaderException if this node does not lead (or does not yet serve as leader)
     * @throws UnavailableException if it leads without its lease: the round may go to it again, or
     *     to a newer leader
     */
    public List<Verdict> touch(List<String> sessionIds) {
        // Ahead of a new leader's tracking of its sessions, which would otherwise hold the locks this takes.
        return HeartbeatVerdicts.answer(parts.machine(), parts.duties(), parts.gateway(), sessionIds);
    }
}
