package io.holdfast.server.leadership;

import io.holdfast.UnavailableException;
import io.holdfast.server.raft.LockStateMachine;
import io.holdfast.server.raft.TableQuery.TouchSessions.Verdict;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The leader's rule for a round of heartbeats, once it knows it leads: the one place that turns the
 * table's sessions and {@link LeaderDuties}' tracking into verdicts, for the node's {@code
 * Heartbeats} and for the {@link LeaderRehearsal}, which runs it on a throwaway table so that a
 * member has it compiled before it leads.
 *
 * <p><b>Guarantees.</b> A session is {@link Verdict#ACKED} only when the table knows it, {@code
 * lease} finds no refusal (read after the table and before the touch), and the duties tracked the
 * touch; its deadline then moves to a TTL from now ({@link LeaderDuties#touchAll}). A session the
 * table does not know is {@link Verdict#GONE}; one whose expiry is in flight is {@link
 * Verdict#EXPIRING}.
 *
 * <p><b>Does not</b> check that this node leads: the caller does, before.
 */
public final class HeartbeatVerdicts {
    /**
     * The sessions of a round read and touched at one hold of the table's lock and the duties'
     * monitor, which the leader's apply path takes for every entry; also the sessions of a call of
     * many heartbeats whose identities are checked at one hold ({@code
     * RaftLockService.mayUseSessions}).
     */
    public static final int SLICE = 512;

    private HeartbeatVerdicts() {}

    /**
     * A leader's verdicts on a round of relayed heartbeats ({@link #of}), answered ahead of its
     * duties' tracking ({@link LeaderDuties#answering}), with its lease checked through {@code
     * gateway}: the one rule for the node's rounds ({@code Heartbeats}) and a leader rehearsal's.
     *
     * @throws io.holdfast.model.NotLeaderException if the duties do not run here
     * @throws UnavailableException if this node leads without its lease
     */
    public static List<Verdict> answer(
            LockStateMachine machine, LeaderDuties duties, RaftGateway gateway, List<String> sessionIds) {
        return duties.answering(() -> {
            if (!duties.isActive()) {
                throw gateway.notLeader();
            }
            return of(machine, duties, () -> gateway.leaseRefusal(LeaseRefusals.Refused.HEARTBEAT), sessionIds);
        });
    }

    /**
     * The verdicts on {@code sessionIds}, in their order, {@value #SLICE} sessions at a time: each
     * slice is read from the table, then {@code lease} is checked, then the slice is touched, so
     * every verdict keeps that order. A relayed round carries up to 8,192 sessions; read and touched
     * at one hold, it kept the leader's apply path (which takes the table's lock and the duties'
     * monitor for every entry) waiting for the whole round: an acquire at a leader carrying
     * 100,000 sessions had a p99 of 38–47 ms with whole rounds and 22–34 ms with slices, alternated
     * in the same cluster (docs/benchmarks.md, 2026-12-06).
     *
     * @throws UnavailableException what {@code lease} refuses with: the round may go to this node
     *     again, or to a newer leader. Slices before the refusal have been touched; their sessions
     *     got a later deadline at this leader than their clients were told, which only keeps them
     *     longer, as an answer lost on its way does.
     */
    public static List<Verdict> of(
            LockStateMachine machine,
            LeaderDuties duties,
            Supplier<Optional<UnavailableException>> lease,
            List<String> sessionIds) {
        if (sessionIds.size() <= SLICE) {
            return slice(machine, duties, lease, sessionIds);
        }
        List<Verdict> out = new ArrayList<>(sessionIds.size());
        for (int from = 0; from < sessionIds.size(); from += SLICE) {
            out.addAll(
                    slice(machine, duties, lease, sessionIds.subList(from, Math.min(sessionIds.size(), from + SLICE))));
        }
        return out;
    }

    /** The verdicts on one slice of a round ({@link #of}). */
    private static List<Verdict> slice(
            LockStateMachine machine,
            LeaderDuties duties,
            Supplier<Optional<UnavailableException>> lease,
            List<String> sessionIds) {
        boolean[] known = machine.read(table -> {
            boolean[] k = new boolean[sessionIds.size()];
            for (int i = 0; i < k.length; i++) {
                k[i] = table.hasSession(sessionIds.get(i));
            }
            return k;
        });
        Optional<UnavailableException> refused = lease.get();
        if (refused.isPresent()) {
            throw refused.get();
        }
        LeaderDuties.Touch[] touched = duties.touchAll(sessionIds);
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
            machine.read(table -> {
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
