package io.holdfast.server.node;

import io.holdfast.UnavailableException;
import io.holdfast.model.NotLeaderException;
import io.holdfast.server.leadership.LeaderDuties;
import io.holdfast.server.leadership.LeaseRefusals;
import io.holdfast.server.raft.TableQuery.TouchSessions.Verdict;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

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
    private final NodeParts parts;

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
        try {
            return io.holdfast.server.raft.TableQuery.TouchSessions.Answer.of(touch(sessionIds));
        } catch (RuntimeException e) {
            return io.holdfast.server.raft.TableQuery.TouchSessions.Answer.refused(
                    io.holdfast.internal.Causes.rootMessage(e));
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
        return parts.duties().answering(() -> verdicts(sessionIds));
    }

    private List<Verdict> verdicts(List<String> sessionIds) {
        if (!parts.duties().isActive()) {
            throw parts.gateway().notLeader();
        }
        boolean[] known = parts.machine().read(table -> {
            boolean[] k = new boolean[sessionIds.size()];
            for (int i = 0; i < k.length; i++) {
                k[i] = table.hasSession(sessionIds.get(i));
            }
            return k;
        });
        Optional<UnavailableException> refused = parts.gateway().leaseRefusal(LeaseRefusals.Refused.HEARTBEAT);
        if (refused.isPresent()) {
            throw refused.get();
        }
        LeaderDuties.Touch[] touched = parts.duties().touchAll(sessionIds);
        List<Verdict> out = new ArrayList<>(touched.length);
        List<Integer> untracked = new ArrayList<>(0);
        for (int i = 0; i < touched.length; i++) {
            if (!known[i]) {
                out.add(Verdict.GONE);
                continue;
            }
            switch (touched[i]) {
                case ACKED -> out.add(Verdict.ACKED);
                case EXPIRING -> out.add(Verdict.EXPIRING);
                default -> {
                    out.add(Verdict.UNTRACKED);
                    untracked.add(i);
                }
            }
        }
        if (!untracked.isEmpty()) {
            // Ended between the table's read and the touch (expired, closed), or opened a moment ago.
            parts.machine().read(table -> {
                for (int i : untracked) {
                    if (!table.hasSession(sessionIds.get(i))) {
                        out.set(i, Verdict.GONE);
                    }
                }
                return null;
            });
        }
        return out;
    }
}
