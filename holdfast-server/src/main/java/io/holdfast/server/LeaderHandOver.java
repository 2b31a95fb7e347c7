package io.holdfast.server;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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

/** What a stopping leader does first: hand its leadership to a follower ({@link #run}). */
final class LeaderHandOver {
    private static final Logger LOG = LoggerFactory.getLogger(HoldfastServer.class);

    private LeaderHandOver() {}

    /** How long a stopping leader spends handing over its leadership, at most. */
    private static final Duration HAND_OVER_TIMEOUT = Duration.ofMillis(1500);

    /**
     * A leader that stops hands its leadership to a follower first, through Ratis's leadership
     * transfer (the follower is brought up to date, then starts an election at once), so that the
     * cluster serves again within milliseconds instead of after an election timeout. Followers are
     * tried in turn, the one heard from last first, within {@link #HAND_OVER_TIMEOUT} in all; when
     * none takes it (none running, none caught up in time), the node stops anyway and the others
     * elect a leader as after a crash. Safety does not depend on it: the transferee wins an ordinary
     * election, which needs an up-to-date log.
     */
    static void run(RaftServer raft, RaftGroupId group, ServerConfig config) {
        RaftPeerId self = RaftPeerId.valueOf(config.nodeId());
        long deadline = System.nanoTime() + HAND_OVER_TIMEOUT.toNanos();
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
            List<RaftPeerId> followers = new ArrayList<>();
            division.getInfo().getRoleInfoProto().getLeaderInfo().getFollowerInfoList().stream()
                    .sorted(java.util.Comparator.comparingLong(f -> f.getLastRpcElapsedTimeMs()))
                    .forEach(f -> followers.add(RaftPeerId.valueOf(f.getId().getId())));
            for (RaftPeerId follower : followers) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left < 50) {
                    break;
                }
                TransferLeadershipRequest request =
                        new TransferLeadershipRequest(ClientId.randomId(), self, group, 0, follower, left);
                try {
                    RaftClientReply reply = Membership.offThread(() -> raft.transferLeadershipAsync(request))
                            .get(left + 200, TimeUnit.MILLISECONDS);
                    if (reply.isSuccess()) {
                        LOG.info("Node {} handed its leadership to {} before stopping", config.nodeId(), follower);
                        return;
                    }
                    LOG.info(
                            "{} did not take the leadership: {}",
                            follower,
                            reply.getException() == null
                                    ? "no reason given"
                                    : HoldfastServer.rootMessage(reply.getException()));
                } catch (ExecutionException | TimeoutException e) {
                    LOG.info("{} did not take the leadership: {}", follower, HoldfastServer.rootMessage(e));
                }
            }
            LOG.info("Node {} stops as leader: no follower took over; the others will elect one", config.nodeId());
        } catch (IOException | RuntimeException e) {
            LOG.info("Node {} could not hand over its leadership: {}", config.nodeId(), HoldfastServer.rootMessage(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
