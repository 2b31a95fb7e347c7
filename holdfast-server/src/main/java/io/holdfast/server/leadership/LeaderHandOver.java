package io.holdfast.server.leadership;

import io.holdfast.Ticker;
import io.holdfast.internal.Causes;
import io.holdfast.server.config.ServerConfig;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.TransferLeadershipRequest;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands a leader's leadership to a follower: what a stopping leader does first ({@link #run}), and
 * what a leader whose Ratis leader state is stuck does to clear it ({@link #handOver}, used by
 * {@code StuckLeader}). It guarantees nothing beyond trying: a follower that is down or behind does
 * not take it, and the caller then goes on without. Failure story: the only other voter is cut
 * off; both transfers time out within the bound, and the stopping node stops as leader anyway.
 */
public final class LeaderHandOver {
    private static final Logger LOG = LoggerFactory.getLogger(LeaderHandOver.class);

    private LeaderHandOver() {}

    /**
     * How long a hand-over may take, at most: a stopping leader's, and a stuck leader's. A transfer
     * that fails costs the cluster an election timeout, far more than waiting here. 1.5 s was too
     * short on a loaded machine: at load 25 on 2 cores, Ratis's transfer timed out after 1.48 s with
     * no new leader (CI rehearsal of 2026-11-30, the Kubernetes rolling restart); etcd's stopping
     * leader allows its request timeout, 5 s and more.
     */
    public static final Duration HAND_OVER_TIMEOUT = Duration.ofSeconds(5);

    /**
     * A leader that stops hands its leadership to a follower first, through Ratis's leadership
     * transfer (the follower is brought up to date, then starts an election at once), so that the
     * cluster serves again within milliseconds instead of after an election timeout. Followers are
     * tried in turn, the one heard from last first, within {@link #HAND_OVER_TIMEOUT} in all; when
     * none takes it (none running, none caught up in time), the node stops anyway and the others
     * elect a leader as after a crash. A follower that stops answering while it is asked (it is
     * stopping too: the whole cluster is being stopped) is given up once it has been silent for
     * two of the shortest election timeouts ({@link #silentAfter}), as etcd's leader gives up a
     * transfer after an election timeout: before, such a stop waited out the whole 5 s (29 of 40 runs
     * of CI's verification, 2026-12-07). So is a hand-over whose leader stepped down in its own term
     * (it lost its followers' answers for its lease: the transfer cannot succeed then): before, a
     * leader that stepped down a moment before the silence was noticed waited out the 5 s too (a
     * verifier run, 2026-12-07). A node that stepped down for a later term (the transferee's
     * election) waits for the transfer's reply as before. Safety does not depend on it: the
     * transferee wins an ordinary election, which needs an up-to-date log.
     */
    public static void run(RaftServer raft, RaftGroupId group, ServerConfig config, Ticker ticker) {
        RaftPeerId self = RaftPeerId.valueOf(config.nodeId());
        try {
            RaftServer.Division division = raft.getDivision(group);
            // The members as the log has them now, not as --peers had them at start: one node grown
            // into three hands over; three shrunk into one has nobody to hand to.
            var voters =
                    division.getRaftConf().getCurrentPeers(org.apache.ratis.proto.RaftProtos.RaftPeerRole.FOLLOWER);
            if (!division.getInfo().isLeader()
                    || voters.size() < 2
                    || voters.stream().noneMatch(p -> p.getId().equals(self))) {
                return; // alone, or removed from the members: nobody to hand over to
            }
            Optional<RaftPeerId> to = handOver(raft, group, self, ticker, HAND_OVER_TIMEOUT, self, silentAfter(config));
            if (to.isPresent()) {
                LOG.info("Node {} handed its leadership to {} before stopping", config.nodeId(), to.get());
            } else {
                LOG.info("Node {} stops as leader: no follower took over; the others will elect one", config.nodeId());
            }
        } catch (IOException | RuntimeException e) {
            LOG.info("Node {} could not hand over its leadership: {}", config.nodeId(), Causes.rootMessage(e));
        }
    }

    /**
     * Hands this leader's leadership to one of the voters it replicates to, trying them in turn (the
     * one heard from last first) within {@code within} in all.
     *
     * @return the member that took the leadership; empty when none did in time, or this node does
     *     not lead (each refusal is logged at INFO)
     */
    public static Optional<RaftPeerId> handOver(
            RaftServer raft, RaftGroupId group, RaftPeerId self, Ticker ticker, Duration within) {
        return handOver(raft, group, self, ticker, within, self);
    }

    /**
     * As {@link #handOver(RaftServer, RaftGroupId, RaftPeerId, Ticker, Duration)}, never to {@code skip}
     * (a voter known not to be able to take it).
     */
    public static Optional<RaftPeerId> handOver(
            RaftServer raft, RaftGroupId group, RaftPeerId self, Ticker ticker, Duration within, RaftPeerId skip) {
        return handOver(raft, group, self, ticker, within, skip, null);
    }

    /**
     * How long a stopping leader keeps asking a follower that does not answer it: two of the
     * shortest election timeouts, four of the leader's heartbeat intervals (Ratis's log appender
     * sends one after half the shortest election timeout without entries); a follower that answers
     * none of them is not up to take the leadership.
     */
    static Duration silentAfter(ServerConfig config) {
        return config.electionTimeoutMin().multipliedBy(2);
    }

    /** How often a hand-over looks whether its follower still answers. */
    private static final long POLL_MILLIS = 20;

    /** How long a hand-over waits for its transfer's reply once this node stepped down in its own term. */
    private static final long STEPPED_DOWN_GRACE_MILLIS = 100;

    /**
     * As {@link #handOver(RaftServer, RaftGroupId, RaftPeerId, Ticker, Duration, RaftPeerId)}; when
     * {@code silentAfter} is not null, a follower that has not answered the leader for that long
     * while it is asked is given up, and so is the hand-over: Ratis keeps a transfer pending until
     * its own timeout and refuses another meanwhile. Package-private for its test, which sets
     * {@code silentAfter} past the leader's lease to reach the step-down on its own.
     */
    static Optional<RaftPeerId> handOver(
            RaftServer raft,
            RaftGroupId group,
            RaftPeerId self,
            Ticker ticker,
            Duration within,
            RaftPeerId skip,
            Duration silentAfter) {
        long deadline = ticker.nanos() + within.toNanos();
        try {
            RaftServer.Division division = raft.getDivision(group);
            if (!division.getInfo().isLeader()) {
                return Optional.empty();
            }
            var voters =
                    division.getRaftConf().getCurrentPeers(org.apache.ratis.proto.RaftProtos.RaftPeerRole.FOLLOWER);
            List<RaftPeerId> followers = new ArrayList<>();
            division.getInfo().getRoleInfoProto().getLeaderInfo().getFollowerInfoList().stream()
                    .sorted(java.util.Comparator.comparingLong(f -> f.getLastRpcElapsedTimeMs()))
                    .map(f -> RaftPeerId.valueOf(f.getId().getId()))
                    .filter(id -> !id.equals(self)
                            && !id.equals(skip)
                            && voters.stream().anyMatch(v -> v.getId().equals(id)))
                    .forEach(followers::add);
            for (RaftPeerId follower : followers) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - ticker.nanos());
                if (left < 50) {
                    break;
                }
                TransferLeadershipRequest request =
                        new TransferLeadershipRequest(ClientId.randomId(), self, group, 0, follower, left);
                try {
                    CompletableFuture<RaftClientReply> transfer =
                            RaftAdmin.offThread(() -> raft.transferLeadershipAsync(request));
                    RaftClientReply reply = silentAfter == null
                            ? transfer.get(left + 200, TimeUnit.MILLISECONDS)
                            : whileAnswering(transfer, left + 200, division, follower, silentAfter);
                    if (reply == null) {
                        return Optional.empty(); // the follower went silent: logged
                    }
                    if (reply.isSuccess()) {
                        return Optional.of(follower);
                    }
                    LOG.info(
                            "{} did not take the leadership: {}",
                            follower,
                            reply.getException() == null
                                    ? "no reason given"
                                    : Causes.rootMessage(reply.getException()));
                } catch (ExecutionException | TimeoutException e) {
                    LOG.info("{} did not take the leadership: {}", follower, Causes.rootMessage(e));
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.info("Node {} could not hand over its leadership: {}", self, Causes.rootMessage(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return Optional.empty();
    }

    /**
     * {@code transfer}'s reply within {@code millis}, or null as soon as {@code follower} has not
     * answered this leader for {@code silentAfter}, or this node stepped down in its own term (it
     * lost its lease: no transfer can succeed then) at least {@link #STEPPED_DOWN_GRACE_MILLIS} ago
     * (looked at every {@link #POLL_MILLIS}). A node that follows in a later term is waited for to
     * the end: that is how a transfer succeeds (the follower's election), and Ratis completes its
     * reply only once the new leader's first append has arrived (hundreds of ms on a loaded
     * machine: a rolling restart in CI rehearsal ci117 gave its hand-over up after 100 ms).
     */
    private static RaftClientReply whileAnswering(
            CompletableFuture<RaftClientReply> transfer,
            long millis,
            RaftServer.Division division,
            RaftPeerId follower,
            Duration silentAfter)
            throws InterruptedException, ExecutionException, TimeoutException {
        long term = division.getInfo().getCurrentTerm();
        long notLeadingSince = -1;
        for (long waited = 0; ; waited += POLL_MILLIS) {
            try {
                return transfer.get(Math.min(POLL_MILLIS, Math.max(1, millis - waited)), TimeUnit.MILLISECONDS);
            } catch (TimeoutException notYet) {
                if (waited + POLL_MILLIS >= millis) {
                    throw notYet;
                }
                if (!division.getInfo().isLeader()) {
                    // Ratis sets the role before the term (changeToFollower): the grace covers between
                    if (division.getInfo().getCurrentTerm() != term) {
                        continue; // an election under way, the transferee's if the transfer works
                    }
                    notLeadingSince = notLeadingSince < 0 ? waited : notLeadingSince;
                    if (waited - notLeadingSince >= STEPPED_DOWN_GRACE_MILLIS) {
                        LOG.info(
                                "{} did not take the leadership: this node stepped down in term {} without it",
                                follower,
                                term);
                        return null;
                    }
                    continue;
                }
                long silent = silentMillis(division, follower);
                if (silent > silentAfter.toMillis()) {
                    LOG.info("{} did not take the leadership: it has not answered for {} ms", follower, silent);
                    return null;
                }
            }
        }
    }

    /** How long {@code follower} has not answered this leader, in ms; -1 when it is not among its followers. */
    private static long silentMillis(RaftServer.Division division, RaftPeerId follower) {
        return division.getInfo().getRoleInfoProto().getLeaderInfo().getFollowerInfoList().stream()
                .filter(f -> RaftPeerId.valueOf(f.getId().getId()).equals(follower))
                .mapToLong(f -> f.getLastRpcElapsedTimeMs())
                .findFirst()
                .orElse(-1);
    }

    /**
     * Makes this leader step down (Ratis's step-down request, which, unlike a transfer, Ratis takes
     * while it stages new members) and waits for a leader of a later term: the members elect one as
     * after a lost lease, this node too when its log is the longest. Its leader state, and whatever
     * change it was staging, is dropped; the new leader's is built afresh from the log.
     *
     * @return the new leader; empty when none was elected within {@code within}, or this node does
     *     not lead
     */
    public static Optional<RaftPeerId> stepDown(
            RaftServer raft, RaftGroupId group, RaftPeerId self, Ticker ticker, Duration within) {
        long deadline = ticker.nanos() + within.toNanos();
        try {
            RaftServer.Division division = raft.getDivision(group);
            long term = division.getInfo().getCurrentTerm();
            if (!division.getInfo().isLeader()) {
                return Optional.empty();
            }
            TransferLeadershipRequest request =
                    new TransferLeadershipRequest(ClientId.randomId(), self, group, 0, null, within.toMillis());
            RaftClientReply reply = RaftAdmin.offThread(() -> raft.transferLeadershipAsync(request))
                    .get(within.toMillis(), TimeUnit.MILLISECONDS);
            if (!reply.isSuccess()) {
                LOG.info(
                        "Node {} did not step down: {}",
                        self,
                        reply.getException() == null ? "no reason given" : Causes.rootMessage(reply.getException()));
                return Optional.empty();
            }
            while (ticker.nanos() - deadline < 0) {
                RaftPeerId leader = division.getInfo().getLeaderId();
                if (leader != null && division.getInfo().getCurrentTerm() > term) {
                    return Optional.of(leader);
                }
                TimeUnit.MILLISECONDS.sleep(20);
            }
        } catch (IOException | RuntimeException | ExecutionException | TimeoutException e) {
            LOG.info("Node {} could not step down: {}", self, Causes.rootMessage(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return Optional.empty();
    }
}
