package io.holdfast.server.membership;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.server.leadership.RaftGateway;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.ratis.proto.RaftProtos.FollowerInfoProto;
import org.apache.ratis.proto.RaftProtos.RaftConfigurationProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.proto.RaftProtos.ServerRpcProto;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The signs {@link JoinRescue} reads, and what it deletes; its whole path is {@code JointWindowTest}'s. */
class JoinRescueTest {
    private static final RaftPeerId N4 = RaftPeerId.valueOf("n4");

    @Test
    void aLeaderOrAFollowerOfALiveLeaderHoldsTheRescueBack() {
        assertThat(RaftGateway.followsALeader(
                        RoleInfoProto.newBuilder().setRole(RaftPeerRole.LEADER).build(), 2000))
                .isTrue();
        assertThat(RaftGateway.followsALeader(follower("n1", 300), 2000)).isTrue();
        assertThat(RaftGateway.followsALeader(follower("n1", 2500), 2000))
                .as("a leader not heard from for an election timeout")
                .isFalse();
        assertThat(RaftGateway.followsALeader(follower("", 10), 2000))
                .as("no leader known")
                .isFalse();
        assertThat(RaftGateway.followsALeader(
                        RoleInfoProto.newBuilder()
                                .setRole(RaftPeerRole.CANDIDATE)
                                .build(),
                        2000))
                .isFalse();
        assertThat(RaftGateway.followsALeader(null, 2000)).isFalse();
    }

    @Test
    void onlyAConfigurationThatCountsTheNodeAsAVoterCounts() {
        RaftConfigurationProto joint = RaftConfigurationProto.newBuilder()
                .addPeers(peer("n1"))
                .addPeers(peer("n4"))
                .addOldPeers(peer("n1"))
                .build();
        RaftConfigurationProto learner = RaftConfigurationProto.newBuilder()
                .addPeers(peer("n1"))
                .addListeners(peer("n4"))
                .build();
        assertThat(JoinRescue.countsAsVoter(joint, N4)).isTrue();
        assertThat(JoinRescue.countsAsVoter(learner, N4))
                .as("a learner's vote is not needed")
                .isFalse();
        assertThat(JoinRescue.countsAsVoter(null, N4)).isFalse();
    }

    @Test
    void theLogAndItsRecordedConfigurationGoTheTermVoteAndSnapshotsStay(@TempDir Path dir) throws Exception {
        Path current = Files.createDirectories(dir.resolve("current"));
        for (String f : new String[] {"log_0-15", "log_inprogress_16", "raft-meta.conf", "raft-meta", "in_use.lock"}) {
            Files.writeString(current.resolve(f), "x");
        }
        Path sm = Files.createDirectories(dir.resolve("sm"));
        Files.writeString(sm.resolve("snapshot.1_15"), "x");

        JoinRescue.forgetLog(current);

        try (var left = Files.list(current)) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("raft-meta", "in_use.lock");
        }
        assertThat(sm.resolve("snapshot.1_15")).exists();
    }

    private static RoleInfoProto follower(String leader, long lastRpcMillis) {
        return RoleInfoProto.newBuilder()
                .setRole(RaftPeerRole.FOLLOWER)
                .setFollowerInfo(FollowerInfoProto.newBuilder()
                        .setLeaderInfo(ServerRpcProto.newBuilder()
                                .setId(RaftPeerProto.newBuilder().setId(ByteString.copyFromUtf8(leader)))
                                .setLastRpcElapsedTimeMs(lastRpcMillis)))
                .build();
    }

    private static RaftPeerProto peer(String id) {
        return RaftPeerProto.newBuilder().setId(ByteString.copyFromUtf8(id)).build();
    }
}
