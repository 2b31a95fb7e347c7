package io.holdfast.server.membership;

import io.holdfast.Ticker;
import io.holdfast.internal.Causes;
import io.holdfast.server.leadership.LeaderHandOver;
import io.holdfast.server.leadership.RaftAdmin;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.ClientFactory;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.exceptions.ReconfigurationInProgressException;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A leader whose Ratis leader state can no longer change the members, and the way out: hand the
 * leadership to another voter, whose leader state is built afresh from the log, and make the same
 * change there once.
 *
 * <p><b>How a leader gets stuck (Ratis 3.3).</b> A leader elected while the last configuration in
 * its log is a joint one (a removal that a change of leader interrupted) starts a log appender for
 * every member of both halves, the removed member included, and then appends its first entry with
 * the new half only ({@code LeaderStateImpl}'s {@code StartupLogEntry}). The configuration is then
 * stable, so the step that would stop the removed member's appender ({@code updateSenders}, reached
 * only from a joint configuration) never runs: the leader replicates to a member it does not count
 * for as long as it leads. Adding that id again fails inside Ratis ({@code Found duplicated element}
 * in {@code LeaderStateImpl.addSenders}), after the change was registered as pending, so every later
 * change on that leader fails too ({@code IllegalStateException} from {@code
 * PendingRequests.addConfRequest}). A new leader's appenders follow its (stable) configuration.
 *
 * <p><b>Guarantees.</b> {@link #isStuck} recognises those failures (an {@code IllegalStateException}
 * out of Ratis's change); {@link #handOverAndRetry} hands over within {@link #HAND_OVER_TIMEOUT}
 * and retries exactly once, on the new leader, with the same compare-and-set arguments, so the
 * change is made only if the members are still those it was computed from. It logs one line.
 *
 * <p><b>Does not guarantee</b> that the retry succeeds: no voter may take the leadership (then the
 * change fails, saying so), and the new leader may refuse the change for reasons of its own (a new
 * member that does not answer). Failure story: a three-member cluster with one member down is stuck
 * after an interrupted removal; the only other running voter takes the leadership, the change is
 * made there, and the caller gets its answer from the old leader, now a follower.
 */
public final class StuckLeader {
    private static final Logger LOG = LoggerFactory.getLogger(StuckLeader.class);
    /** How long the hand-over may take before the change is given up. */
    static final Duration HAND_OVER_TIMEOUT = LeaderHandOver.HAND_OVER_TIMEOUT;
    /** How often the retry is sent again to a new leader that is not ready yet, 100 ms apart. */
    private static final int NOT_READY_TRIES = 50;

    private final RaftServer server;
    private final RaftGroupId group;
    private final RaftPeerId self;
    private final Ticker ticker;

    StuckLeader(RaftServer server, RaftGroupId group, RaftPeerId self, Ticker ticker) {
        this.server = server;
        this.group = group;
        this.self = self;
        this.ticker = ticker;
    }

    /** Whether a change's failure is Ratis's leader state refusing it (see the class comment). */
    static boolean isStuck(Throwable failure) {
        return Causes.find(failure, IllegalStateException.class) != null;
    }

    /**
     * Whether a change's refusal, "reconfiguration is already in progress", comes from a staging
     * that nothing drives: this node leads, its configuration is stable and committed (so Ratis's
     * leader state is staging new members, and no joint configuration is logged), and no member it
     * replicates to that its configuration does not count as a voter (the staged ones) has answered
     * within {@code stagingTimeout}, or there is none. Ratis 3.3 checks a staged member's progress
     * only when the leader's event queue stays empty for an RPC timeout or that member's log
     * advances: under steady writes a staged member that went silent, or whose log appender Ratis
     * lost (a read of a segment purged meanwhile kills the appender, and a restart does not recreate
     * one for a member outside the configuration), is staged for as long as this node leads.
     */
    boolean isAbandonedStaging(Throwable refused) {
        if (Causes.find(refused, ReconfigurationInProgressException.class) == null) {
            return false;
        }
        try {
            RaftServer.Division division = server.getDivision(group);
            Set<String> voters = new HashSet<>();
            division.getRaftConf()
                    .getAllPeers(RaftPeerRole.FOLLOWER)
                    .forEach(p -> voters.add(p.getId().toString()));
            return StagingWatch.stalled(
                    division, id -> !voters.contains(id), StagingWatch.stagingTimeoutMillis(server));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** The refusal in a few words: Ratis's own message, without the collections it prints. */
    static String why(Throwable failure) {
        String message = Causes.rootMessage(failure);
        int cut = message.indexOf(" when adding ");
        return cut > 0 ? message.substring(0, cut) : message;
    }

    /** The members this leader replicates to that its configuration does not count. */
    public static List<String> strays(RaftServer.Division division) {
        RaftConfiguration conf = division.getRaftConf();
        Set<String> members = new HashSet<>();
        for (RaftPeerRole role : List.of(RaftPeerRole.FOLLOWER, RaftPeerRole.LISTENER)) {
            conf.getAllPeers(role).forEach(p -> members.add(p.getId().toString()));
        }
        List<String> strays = new ArrayList<>();
        if (division.getInfo().isLeader()) {
            division.getInfo().getRoleInfoProto().getLeaderInfo().getFollowerInfoList().stream()
                    .map(f -> f.getId().getId().toStringUtf8())
                    .filter(id -> !members.contains(id))
                    .sorted()
                    .forEach(strays::add);
        }
        return strays;
    }

    /**
     * Hands the leadership over and makes the change once on the new leader.
     *
     * @param what the change, as the log says it ("add n5")
     * @param arguments the change as it was refused here
     * @param failure why it was refused
     * @return the new leader's answer; fails when nobody took the leadership
     */
    CompletableFuture<RaftClientReply> handOverAndRetry(
            String what, SetConfigurationRequest.Arguments arguments, Throwable failure, Duration timeout) {
        List<String> strays = List.of();
        try {
            strays = strays(server.getDivision(group));
        } catch (IOException | RuntimeException e) {
            // only for the log line
        }
        boolean staging = Causes.find(failure, ReconfigurationInProgressException.class) != null;
        if (staging) {
            LOG.warn(
                    "Node {} could not {}: Ratis's leader state still stages an earlier change that no staged member"
                            + " answers{}: it steps down and retries the change once on the new leader",
                    self,
                    what,
                    strays.isEmpty() ? " (it replicates to none)" : " (" + String.join(", ", strays) + " silent)");
        } else {
            LOG.warn(
                    "Node {} could not {}: its Ratis leader state refuses changes of the members ({}{}): it hands its"
                            + " leadership over and retries the change once on the new leader",
                    self,
                    what,
                    why(failure),
                    strays.isEmpty() ? "" : "; it still replicates to " + String.join(", ", strays) + ", no member");
        }
        List<RaftPeer> peers = peers();
        return RaftAdmin.offThread(() -> {
            // Ratis refuses a transfer while it stages a change; it takes a step-down.
            Optional<RaftPeerId> leader = staging
                    ? LeaderHandOver.stepDown(server, group, self, ticker, HAND_OVER_TIMEOUT)
                    : LeaderHandOver.handOver(server, group, self, ticker, HAND_OVER_TIMEOUT);
            if (leader.isEmpty()) {
                return CompletableFuture.failedFuture(new IllegalStateException("no other voter took the leadership"
                        + " to clear it; hand it over with holdfast members transfer-leader and retry"));
            }
            return CompletableFuture.completedFuture(retryOn(leader.get(), peers, arguments, timeout));
        });
    }

    /** The members' ids and Raft addresses, for a Ratis client of the group. */
    private List<RaftPeer> peers() {
        List<RaftPeer> peers = new ArrayList<>();
        try {
            RaftConfiguration conf = server.getDivision(group).getRaftConf();
            for (RaftPeerRole role : List.of(RaftPeerRole.FOLLOWER, RaftPeerRole.LISTENER)) {
                for (RaftPeer p : conf.getAllPeers(role)) {
                    peers.add(RaftPeer.newBuilder()
                            .setId(p.getId())
                            .setAddress(p.getAddress())
                            .build());
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return peers;
    }

    /**
     * Sends the change to {@code leader} as an admin call of Ratis on its Raft port, with this
     * node's own RPC factory (its TLS settings included).
     */
    private RaftClientReply retryOn(
            RaftPeerId leader, List<RaftPeer> peers, SetConfigurationRequest.Arguments arguments, Duration timeout)
            throws IOException {
        if (!(server.getFactory() instanceof ClientFactory factory)) {
            throw new IOException("this node's Raft RPC cannot send an admin call");
        }
        RaftProperties properties = OneShotClient.withTimeout(timeout);
        ClientId id = ClientId.randomId();
        return OneShotClient.call(
                RaftClient.newBuilder()
                        .setRaftGroup(RaftGroup.valueOf(group, peers))
                        .setProperties(properties)
                        .setParameters(new Parameters())
                        .setClientId(id)
                        .setLeaderId(leader)
                        // A leader just elected answers "not ready" until it has applied its first entry.
                        .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(
                                NOT_READY_TRIES, TimeDuration.valueOf(100, TimeUnit.MILLISECONDS)))
                        .setClientRpc(factory.newRaftClientRpc(id, properties)),
                client -> client.admin().setConfiguration(arguments));
    }
}
