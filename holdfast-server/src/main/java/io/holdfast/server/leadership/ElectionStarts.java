package io.holdfast.server.leadership;

import io.holdfast.internal.Causes;
import java.io.IOException;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
import org.apache.ratis.proto.RaftProtos.StartLeaderElectionRequestProto;
import org.apache.ratis.proto.RaftProtos.TermIndexProto;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.util.ProtoUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The elections {@link DeadLeaderWatch} starts once the leader's process is gone, at this node or at
 * a peer, with the request a leader sends the follower it hands over to ({@code
 * startLeaderElection}): it names the dead leader and the campaigner's own last log entry, and Ratis
 * accepts it only while the campaigner follows that leader in a term no newer than that entry's,
 * with a log at least as far. The campaigner then campaigns at once, without a pre-vote.
 *
 * <p><b>Does not</b> decide who campaigns ({@link Candidacy} does) nor wait for the outcome: a
 * refused or unanswered request leaves the election to the watch's waits and the election timeout.
 */
final class ElectionStarts {
    private static final Logger LOG = LoggerFactory.getLogger(ElectionStarts.class);

    private ElectionStarts() {}

    /** Asks this node's own Raft server to campaign: whether it accepted. */
    static boolean campaign(RaftGateway gateway, RaftPeerId deadLeader, TermIndex last) throws IOException {
        return gateway.server()
                .startLeaderElection(request(gateway, deadLeader, gateway.selfId(), last.toProto()))
                .getServerReply()
                .getSuccess();
    }

    /**
     * Asks {@code peer}, whose pre-vote answer said its log ends at {@code peerLast}, as far as this
     * node's, to campaign in this node's place, over Raft's own connection to it; logs the outcome on
     * one line, whatever it is.
     */
    static void handOver(RaftGateway gateway, RaftPeerId deadLeader, String peer, TermIndexProto peerLast) {
        try {
            boolean accepted = gateway.server()
                    .getServerRpc()
                    .startLeaderElection(request(gateway, deadLeader, RaftPeerId.valueOf(peer), peerLast))
                    .getServerReply()
                    .getSuccess();
            LOG.info(
                    "Node {} asked {} to campaign in its place: {}",
                    gateway.selfId(),
                    peer,
                    accepted ? "it starts an election at once" : "it refused (a newer term or leader there)");
        } catch (IOException | RuntimeException e) {
            LOG.info(
                    "Node {} asked {} to campaign in its place and had no answer: {}",
                    gateway.selfId(),
                    peer,
                    Causes.rootMessage(e));
        }
    }

    private static StartLeaderElectionRequestProto request(
            RaftGateway gateway, RaftPeerId deadLeader, RaftPeerId campaigner, TermIndexProto last) {
        return StartLeaderElectionRequestProto.newBuilder()
                .setServerRequest(RaftRpcRequestProto.newBuilder()
                        .setRequestorId(deadLeader.toByteString())
                        .setReplyId(campaigner.toByteString())
                        .setRaftGroupId(ProtoUtils.toRaftGroupIdProtoBuilder(gateway.groupId())))
                .setLeaderLastEntry(last)
                .build();
    }
}
