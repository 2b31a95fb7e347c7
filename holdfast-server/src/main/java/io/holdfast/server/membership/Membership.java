package io.holdfast.server.membership;

import io.holdfast.ConflictException;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Ticker;
import io.holdfast.UnavailableException;
import io.holdfast.internal.Causes;
import io.holdfast.model.MembershipChange;
import io.holdfast.model.NotLeaderException;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.leadership.LeaderHandOver;
import io.holdfast.server.leadership.RaftAdmin;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.TransferLeadershipRequest;
import org.apache.ratis.protocol.exceptions.ReconfigurationInProgressException;
import org.apache.ratis.protocol.exceptions.SetConfigurationException;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Changes to the members of the Raft group, made on the leader through Ratis's own configuration
 * change ({@code setConfiguration} in compare-and-set mode: the new member list is computed from the
 * one read, and Ratis refuses it if the list changed meanwhile) and leadership transfer. Ratis
 * brings a new voter up to date before the configuration that counts it is proposed, and commits a
 * change through a joint configuration, so a quorum of the old and of the new members is needed
 * while it is under way. This class only translates; it holds no state.
 *
 * <p>A change that Ratis's leader state refuses with an internal error (after a change of leader
 * interrupted a removal, see {@link StuckLeader}) is made once more on another voter after this
 * leader hands its leadership over, instead of failing on this leader until the leadership moves.
 *
 * <p>Failure story: {@code members add n4=…} for a node that is not running. Ratis waits for it to
 * answer for its staging timeout (three Raft RPC timeouts), then fails the change with a
 * reconfiguration timeout; the members stay as they were, and the caller gets a {@link
 * ConflictException} that says so in one line naming the address that did not answer (not an
 * "unavailable", which clients retry), and the leader logs one line. A change whose leader stepped
 * down under it is told that it may still take effect, as one that timed out: Ratis refuses a
 * pending change so, and the next leader may commit it.
 */
public final class Membership {
    private static final Logger LOG = LoggerFactory.getLogger(Membership.class);
    private static final Pattern ADDRESS = Pattern.compile("[^:=,\\s]+:\\d{1,5}");
    /** How long a leadership transfer may take before it is given up. */
    private static final Duration TRANSFER_TIMEOUT = Duration.ofSeconds(5);
    /** How long a change may take, catching a new member up included, before it is reported failed. */
    private static final Duration CHANGE_TIMEOUT = Duration.ofSeconds(25);

    private final RaftServer server;
    private final RaftGroupId group;
    private final RaftPeerId self;
    private final Ticker ticker;
    private final Supplier<NotLeaderException> notLeader;
    private final ClientId clientId = ClientId.randomId();
    private final AtomicLong callIds = new AtomicLong();

    private final StuckLeader stuck;
    private final VersionAdmission admission;

    public Membership(
            RaftServer server,
            RaftGroupId group,
            RaftPeerId self,
            Ticker ticker,
            Supplier<NotLeaderException> notLeader,
            VersionAdmission admission) {
        this.server = server;
        this.group = group;
        this.self = self;
        this.ticker = ticker;
        this.notLeader = notLeader;
        this.stuck = new StuckLeader(server, group, self, ticker);
        this.admission = admission;
    }

    /**
     * Makes the change; completes once Ratis has committed it (or the transfer took place). A change
     * that this leader's Ratis state refuses is retried once on the voter it hands its leadership
     * to ({@link StuckLeader}).
     */
    public CompletableFuture<Void> change(MembershipChange change) {
        try {
            RaftServer.Division division = server.getDivision(group);
            if (!division.getInfo().isLeader()) {
                return CompletableFuture.failedFuture(notLeader.get());
            }
            RaftConfiguration conf = division.getRaftConf();
            List<RaftPeer> voters = new ArrayList<>(conf.getCurrentPeers(RaftPeerRole.FOLLOWER));
            List<RaftPeer> learners = new ArrayList<>(conf.getCurrentPeers(RaftPeerRole.LISTENER));
            if (!conf.getPreviousPeers(RaftPeerRole.FOLLOWER).isEmpty()) {
                return CompletableFuture.failedFuture(new ConflictException(
                        "another change of the members is under way; try again when it is done", -1));
            }
            if (change instanceof MembershipChange.TransferLeader t) {
                return transfer(division, voters, t.id());
            }
            List<RaftPeer> newVoters = new ArrayList<>(voters);
            List<RaftPeer> newLearners = new ArrayList<>(learners);
            // A new voter must have reported a version at least the cluster's (VersionAdmission).
            RaftPeer voter = null;
            if (change instanceof MembershipChange.Add a) {
                RaftPeer peer = validNew(a, voters, learners);
                (a.learner() ? newLearners : newVoters).add(peer);
                voter = a.learner() ? null : peer;
            } else if (change instanceof MembershipChange.Remove r) {
                RaftPeer gone = find(r.id(), voters, learners);
                newVoters.remove(gone);
                newLearners.remove(gone);
                if (newVoters.isEmpty()) {
                    throw new InvalidArgumentException(
                            "cannot remove " + r.id() + ": it is the last voter, and a cluster needs one");
                }
            } else if (change instanceof MembershipChange.Promote p) {
                RaftPeer learner = find(p.id(), voters, learners);
                if (!learners.contains(learner)) {
                    throw new InvalidArgumentException(p.id() + " is a voter already");
                }
                newLearners.remove(learner);
                newVoters.add(voterOf(learner));
                voter = learner;
            }
            SetConfigurationRequest request = new SetConfigurationRequest(
                    clientId,
                    self,
                    group,
                    callIds.incrementAndGet(),
                    SetConfigurationRequest.Arguments.newBuilder()
                            .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET)
                            .setServersInCurrentConf(voters)
                            .setListenersInCurrentConf(learners)
                            .setServersInNewConf(newVoters)
                            .setListenersInNewConf(newLearners)
                            .build());
            CompletableFuture<Void> admitted = voter == null
                    ? CompletableFuture.completedFuture(null)
                    : admission.admit(voter.getId().toString(), change.describe());
            return admitted.thenCompose(v -> {
                        LOG.info("Node {} changes the members: {}", self, change.describe());
                        CompletableFuture<RaftClientReply> sent =
                                RaftAdmin.offThread(() -> server.setConfigurationAsync(request));
                        return change instanceof MembershipChange.Add a
                                ? StagingWatch.watch(server, group, self, ticker, sent, a.id(), CHANGE_TIMEOUT)
                                : sent;
                    })
                    .orTimeout(CHANGE_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
                    .handle((reply, error) -> failure(reply, error))
                    .thenCompose(refused -> {
                        if (refused == null && change instanceof MembershipChange.Promote p) {
                            return RaftAdmin.offThread(
                                    () -> CompletableFuture.completedFuture(handOverAfterPromoting(p.id())));
                        }
                        if (refused == null || !(StuckLeader.isStuck(refused) || stuck.isAbandonedStaging(refused))) {
                            return CompletableFuture.completedFuture(outcome(change, refused));
                        }
                        // Once: the new leader's state is built afresh; a second refusal is reported.
                        return stuck.handOverAndRetry(
                                        change.describe(), request.getArguments(), refused, CHANGE_TIMEOUT)
                                .orTimeout(
                                        CHANGE_TIMEOUT
                                                .plus(StuckLeader.HAND_OVER_TIMEOUT)
                                                .toMillis(),
                                        java.util.concurrent.TimeUnit.MILLISECONDS)
                                .handle((reply, error) -> outcome(change, failure(reply, error)));
                    });
        } catch (InvalidArgumentException e) {
            return CompletableFuture.failedFuture(e);
        } catch (ReconfigurationInProgressException | SetConfigurationException e) {
            return CompletableFuture.failedFuture(new ConflictException(
                    "cannot " + change.describe() + ": another change of the members is under way or was just made ("
                            + Causes.rootMessage(e) + "); read the members again and retry",
                    -1));
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.failedFuture(
                    new UnavailableException("cannot " + change.describe() + ": " + Causes.rootMessage(e), e));
        }
    }

    /**
     * Hands the leadership over once a learner was promoted. Ratis 3.3's leader never marks a member
     * added as a learner as caught up ({@code LeaderStateImpl.checkStaging} marks only those its
     * configuration counts as voters), so every append it sends that member says "initializing"; a
     * member started with no members (a new one, {@link RejoinGuard#check}) then stays in Ratis's
     * STARTING state, and once promoted it neither votes nor stands for election: with three voters,
     * the death of this leader would leave the third unable to win. A new leader's appenders start
     * caught up, and the promoted member starts running at its first append. Trying is all this
     * does: when no voter takes the leadership the promotion stands, and the member runs from the
     * next change of leader on (one WARN line says so).
     */
    private Void handOverAfterPromoting(String promoted) {
        RaftPeerId id = RaftPeerId.valueOf(promoted);
        Optional<RaftPeerId> to = LeaderHandOver.handOver(server, group, self, ticker, TRANSFER_TIMEOUT, id);
        if (to.isPresent()) {
            LOG.info(
                    "Node {} handed its leadership to {} after promoting {}, so that {} takes part in elections"
                            + " (Ratis treats a promoted learner as catching up until the leader changes)",
                    self,
                    to.get(),
                    promoted,
                    promoted);
        } else {
            LOG.warn(
                    "Node {} promoted {} but no voter took its leadership: {} may not vote until the leader changes",
                    self,
                    promoted,
                    promoted);
        }
        return null;
    }

    private CompletableFuture<Void> transfer(RaftServer.Division division, List<RaftPeer> voters, String to)
            throws IOException {
        RaftPeerId target;
        if (to == null) {
            target = division.getInfo().getRoleInfoProto().getLeaderInfo().getFollowerInfoList().stream()
                    .filter(f -> voters.stream()
                            .anyMatch(v ->
                                    v.getId().toByteString().equals(f.getId().getId())))
                    .min(java.util.Comparator.comparingLong(f -> f.getLastRpcElapsedTimeMs()))
                    .map(f -> RaftPeerId.valueOf(f.getId().getId()))
                    .orElseThrow(() -> new InvalidArgumentException("there is no other voter to take the leadership"));
        } else {
            RaftPeer peer = find(to, voters, List.of());
            target = peer.getId();
        }
        if (target.equals(self)) {
            return CompletableFuture.completedFuture(null);
        }
        TransferLeadershipRequest request = new TransferLeadershipRequest(
                clientId, self, group, callIds.incrementAndGet(), target, TRANSFER_TIMEOUT.toMillis());
        LOG.info("Node {} hands its leadership to {} as asked", self, target);
        return RaftAdmin.offThread(() -> server.transferLeadershipAsync(request))
                .orTimeout(TRANSFER_TIMEOUT.toMillis() + 1000, java.util.concurrent.TimeUnit.MILLISECONDS)
                .handle((reply, error) -> outcome("transfer the leadership to " + target, failure(reply, error)));
    }

    /** Why a Ratis call failed, or null when it succeeded. */
    private static Throwable failure(RaftClientReply reply, Throwable error) {
        if (error != null) {
            return error;
        }
        if (reply.isSuccess()) {
            return null;
        }
        return reply.getException() != null ? reply.getException() : new IOException("Ratis gave no reason");
    }

    /**
     * Nothing for a change that succeeded; else a {@link ConflictException} in one line: "may still
     * take effect" after a timeout or a leader that stepped down under the change, "the members are
     * as they were" after any other refusal.
     */
    static Void outcome(String what, Throwable failure) {
        if (failure == null) {
            return null;
        }
        // Not "unavailable": a client would retry that on every member until its deadline and hide
        // this reason behind its own; the change was refused, and nothing changed.
        if (timedOut(failure)) {
            throw new CompletionException(new ConflictException(
                    "could not " + what + " within " + CHANGE_TIMEOUT.toSeconds()
                            + "s; it may still take effect: see holdfast members before trying again",
                    -1));
        }
        String why = Causes.rootMessage(failure);
        if (leaderLeft(failure)) {
            // Ratis answers "not the leader" both before it logs a change and to one pending when
            // its leader steps down, and a change logged then may commit under the next leader.
            LOG.info("Could not {}: {} (it may still take effect under the next leader)", what, why);
            throw new CompletionException(new ConflictException(
                    "could not " + what + ": " + why + "; it may still take effect under the next leader: see"
                            + " holdfast members before trying again",
                    -1));
        }
        LOG.info("Could not {}: {} (the members are as they were)", what, why);
        LOG.debug("Could not {}", what, failure);
        throw new CompletionException(
                new ConflictException("could not " + what + ": " + why + " (the members are as they were)", -1));
    }

    /**
     * As {@link #outcome(String, Throwable)}; a new member that made no progress while Ratis staged
     * it (its {@code ReconfigurationTimeoutException}, "NOPROGRESS", or a staging {@link
     * StagingWatch} ended) did not answer at its Raft address, which the line names instead of
     * Ratis's internal state; a staging ended because Ratis lost its appender says so.
     */
    private static Void outcome(MembershipChange change, Throwable failure) {
        StagingWatch.Abandoned ended = Causes.find(failure, StagingWatch.Abandoned.class);
        if (change instanceof MembershipChange.Add a && ended != null && (ended.lostAppender || !ended.unchanged)) {
            String line = "could not add " + a.id() + ": " + ended.getMessage() + "; the leader stepped down to end it"
                    + (ended.unchanged
                            ? "; the members are as they were: add it again"
                            : "; it may still take effect under the next leader: see holdfast members before trying"
                                    + " again");
            LOG.info("Could not {}: {}", a.describe(), ended.getMessage());
            throw new CompletionException(new ConflictException(line, -1));
        }
        if (change instanceof MembershipChange.Add a && (noProgress(failure) || ended != null)) {
            String line = "could not add " + a.id() + ": no answer from " + a.raftAddress()
                    + " (its Raft address) while the leader sent it the log; start the node first (an empty"
                    + " --data-dir, " + a.id() + " in its --peers) and check that the leader reaches that port; the"
                    + " members are as they were";
            LOG.info(
                    "Could not {}: no answer from {} while this leader sent it the log", a.describe(), a.raftAddress());
            LOG.debug("Could not {}", a.describe(), failure);
            throw new CompletionException(new ConflictException(line, -1));
        }
        return outcome(change.describe(), failure);
    }

    /** Whether Ratis gave up staging a new member because it made no progress (it did not answer). */
    private static boolean noProgress(Throwable failure) {
        var t = Causes.find(failure, org.apache.ratis.protocol.exceptions.ReconfigurationTimeoutException.class);
        return t != null && String.valueOf(t.getMessage()).contains("NOPROGRESS");
    }

    /** Whether the leader that took the change stopped leading before it answered. */
    private static boolean leaderLeft(Throwable failure) {
        return Causes.find(failure, org.apache.ratis.protocol.exceptions.NotLeaderException.class) != null
                || Causes.find(failure, org.apache.ratis.protocol.exceptions.LeaderSteppingDownException.class) != null;
    }

    private static boolean timedOut(Throwable failure) {
        return Causes.find(failure, java.util.concurrent.TimeoutException.class) != null;
    }

    private static RaftPeer validNew(
            MembershipChange.Add a, Collection<RaftPeer> voters, Collection<RaftPeer> learners) {
        if (!ServerConfig.ID.matcher(a.id()).matches()) {
            throw new InvalidArgumentException("member id must be 1 to 64 of [A-Za-z0-9_-], not '" + a.id() + "'");
        }
        for (String address : List.of(a.raftAddress(), a.clientAddress())) {
            if (!ADDRESS.matcher(address).matches()) {
                throw new InvalidArgumentException("bad address '" + address + "': write host:port");
            }
        }
        for (RaftPeer p : concat(voters, learners)) {
            if (p.getId().toString().equals(a.id())) {
                throw new InvalidArgumentException(a.id() + " is a member already (" + p.getAddress() + ")");
            }
            if (p.getAddress().equals(a.raftAddress())) {
                throw new InvalidArgumentException(
                        "member " + p.getId() + " has the Raft address " + a.raftAddress() + " already");
            }
        }
        return RaftPeer.newBuilder()
                .setId(a.id())
                .setAddress(a.raftAddress())
                .setClientAddress(a.clientAddress())
                .setStartupRole(a.learner() ? RaftPeerRole.LISTENER : RaftPeerRole.FOLLOWER)
                .build();
    }

    private static RaftPeer voterOf(RaftPeer learner) {
        return RaftPeer.newBuilder(learner)
                .setStartupRole(RaftPeerRole.FOLLOWER)
                .build();
    }

    private static RaftPeer find(String id, Collection<RaftPeer> voters, Collection<RaftPeer> learners) {
        return concat(voters, learners).stream()
                .filter(p -> p.getId().toString().equals(id))
                .findFirst()
                .orElseThrow(() -> new InvalidArgumentException("no member has the id '" + id + "'"));
    }

    private static List<RaftPeer> concat(Collection<RaftPeer> a, Collection<RaftPeer> b) {
        List<RaftPeer> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
