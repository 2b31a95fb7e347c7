package io.holdfast.server.node;

import io.holdfast.InvalidArgumentException;
import io.holdfast.UnavailableException;
import io.holdfast.core.LockTable;
import io.holdfast.model.ClusterInfo;
import io.holdfast.model.SessionPage;
import io.holdfast.server.leadership.LeaderDuties;
import io.holdfast.server.leadership.RaftGateway;
import io.holdfast.server.membership.ClusterVersion;
import io.holdfast.server.raft.LockStateMachine;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;
import java.util.function.Predicate;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;

/**
 * What operators read of one node (dashboard, JSON API, {@code holdfast cluster}): the table,
 * sessions with their TTL left, and the members as this node sees them.
 *
 * <p><b>Guarantees.</b> While this node leads, a read of the table passes the leader's read
 * barrier and lease ({@link RaftGateway#afterBarrier}) and is linearizable; otherwise (a follower,
 * or a leader that lost its lease) it is this replica's applied state, which may lag, and says so
 * ({@link Inspection#linearizable()} false). Durations on a follower are shown against its last
 * table time plus the time elapsed since, since its table's clock moves only when the leader's
 * commands arrive.
 *
 * <p><b>Does not</b> change anything, and its follower reads are not for decisions: only the
 * leader's linearizable reads are.
 */
public final class NodeInspector {
    private final RaftGateway raft;
    private final LockStateMachine machine;
    private final ClusterVersion version;
    private final LeaderDuties duties;
    private final Predicate<String> isAdmin;

    private final io.holdfast.Ticker ticker;

    /**
     * (table time, the node's ticker) when this replica's table clock last moved. For display only.
     */
    private volatile long[] replicaClock;

    NodeInspector(
            RaftGateway raft,
            LockStateMachine machine,
            ClusterVersion version,
            LeaderDuties duties,
            Predicate<String> isAdmin,
            io.holdfast.Ticker ticker) {
        this.raft = raft;
        this.machine = machine;
        this.version = version;
        this.duties = duties;
        this.isAdmin = isAdmin;
        this.ticker = ticker;
        this.replicaClock = new long[] {0, ticker.nanos()};
    }

    /** The table's clock after an apply; moves the follower's display clock. */
    void tableClock(long tableNow) {
        if (tableNow != replicaClock[0]) {
            replicaClock = new long[] {tableNow, ticker.nanos()};
        }
    }

    /** A read for operators, and whether it is linearizable (see {@link #inspect}). */
    public record Inspection<T>(T value, boolean linearizable) {}

    /**
     * Reads the table for operators: linearizable through a read barrier while this node leads;
     * otherwise this replica's applied state. The function gets the table and the cluster time to
     * show durations against.
     */
    public <T> CompletableFuture<Inspection<T>> inspect(BiFunction<LockTable, Long, T> read) {
        if (duties.isActive()) {
            CompletableFuture<Inspection<T>> leader = raft.afterBarrier(() -> {
                long now = duties.clusterNow();
                return new Inspection<>(machine.read(t -> read.apply(t, now)), true);
            });
            return leader.exceptionally(e -> localInspection(read));
        }
        return CompletableFuture.completedFuture(localInspection(read));
    }

    private <T> Inspection<T> localInspection(BiFunction<LockTable, Long, T> read) {
        long[] clock = replicaClock;
        long estimate = clock[0] + (ticker.nanos() - clock[1]) / 1_000_000;
        return new Inspection<>(machine.read(t -> read.apply(t, Math.max(t.now(), estimate))), false);
    }

    /** A page of sessions the identity may see (all of them for an admin), with their TTL left. */
    public CompletableFuture<SessionPage> sessions(String identity, String after, int limit) {
        if (limit < 1 || limit > SessionPage.MAX_LIMIT) {
            return CompletableFuture.failedFuture(
                    new InvalidArgumentException("limit must be 1 to " + SessionPage.MAX_LIMIT + ", not " + limit));
        }
        boolean admin = isAdmin.test(identity);
        return inspect((table, now) ->
                        table.sessions(after, limit + 1, now, s -> admin || Objects.equals(s.identity(), identity)))
                .thenApply(read -> {
                    List<SessionPage.Session> page = read.value();
                    boolean more = page.size() > limit;
                    if (more) {
                        page = page.subList(0, limit);
                    }
                    Map<String, Long> left = duties.ttlLeftMillis(
                            page.stream().map(SessionPage.Session::id).toList());
                    List<SessionPage.Session> out = new ArrayList<>(page.size());
                    for (SessionPage.Session x : page) {
                        out.add(x.withTtlLeft(left.get(x.id())));
                    }
                    return new SessionPage(out, more ? page.get(page.size() - 1).id() : null, read.linearizable());
                });
    }

    /**
     * The members as this node sees them: the leader knows when it last heard from each follower;
     * a follower knows only itself and who leads.
     */
    CompletableFuture<ClusterInfo> cluster() {
        try {
            RaftServer.Division division = raft.division();
            var info = division.getInfo();
            String self = raft.selfId().toString();
            // "leader" only once it serves (its state machine caught up as leader), as clients see it.
            String role = duties.isActive()
                    ? "leader"
                    : info.isLeader()
                            ? "leader-not-ready"
                            : info.getCurrentRole().name().toLowerCase(Locale.ROOT);
            RaftPeerId leaderId = info.getLeaderId();
            String leader = leaderId == null ? null : leaderId.toString();
            Map<String, Long> contact = new HashMap<>();
            var roleInfo = info.getRoleInfoProto();
            if (roleInfo.hasLeaderInfo()) {
                for (var f : roleInfo.getLeaderInfo().getFollowerInfoList()) {
                    contact.put(f.getId().getId().toStringUtf8(), f.getLastRpcElapsedTimeMs());
                }
            }
            Set<RaftPeerId> learners = new HashSet<>();
            division.getRaftConf().getAllPeers(RaftPeerRole.LISTENER).forEach(p -> learners.add(p.getId()));
            Map<String, Integer> versions = machine.read(LockTable::memberVersions);
            List<ClusterInfo.Member> members = new ArrayList<>();
            List<RaftPeer> peers = new ArrayList<>(division.getGroup().getPeers());
            peers.sort(Comparator.comparing(p -> p.getId().toString()));
            for (RaftPeer p : peers) {
                String id = p.getId().toString();
                boolean learner = learners.contains(p.getId());
                String memberRole = id.equals(self)
                        ? role
                        : id.equals(leader)
                                ? "leader"
                                : learner ? "learner" : contact.containsKey(id) ? "follower" : "unknown";
                Long last = id.equals(self) ? Long.valueOf(0) : contact.get(id);
                members.add(new ClusterInfo.Member(
                        id, p.getAddress(), raft.clientAddress(p), memberRole, last, versions.get(id)));
            }
            var applied = machine.getLastAppliedTermIndex();
            return CompletableFuture.completedFuture(new ClusterInfo(
                    self,
                    role,
                    leader,
                    info.getCurrentTerm(),
                    division.getRaftLog().getLastCommittedIndex(),
                    applied == null ? -1 : applied.getIndex(),
                    version.clusterVersion(),
                    machine.read(LockTable::lastToken),
                    members));
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.failedFuture(
                    new UnavailableException("this node's Raft state is not readable", e));
        }
    }
}
