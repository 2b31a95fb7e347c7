package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.protocol.TlsFiles;
import io.holdfast.server.config.RaftSettings;
import io.holdfast.server.config.RaftTransport;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.config.StartupException;
import io.holdfast.server.membership.TransportCheck;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The members' Raft transport ({@link RaftTransport}): a cluster on Netty replicates and fails
 * over; a node with TLS refuses Netty, which has none; and a node whose peers talk the other
 * transport refuses to start with one line, instead of waiting for peers it can never hear.
 */
class RaftTransportTest {
    private static final ClientOptions OPTIONS =
            ClientOptions.builder().sessionTtl(Duration.ofSeconds(10)).build();

    @TempDir
    Path dir;

    @Test
    void aNodeWithTlsRefusesTheNettyTransport() {
        ServerConfig plain = ServerConfig.single(dir, "127.0.0.1", 0, 1, -1);
        TlsFiles files = new TlsFiles(dir.resolve("n1.pem"), dir.resolve("n1-key.pem"), dir.resolve("ca.pem"));
        assertThatThrownBy(() -> plain.withRaftTransport(RaftTransport.NETTY).withTls(files, TlsFiles.ClientAuth.NONE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("the netty Raft transport has no TLS (Ratis 3.3.0; RATIS-2634): members with TLS on talk"
                        + " Raft over grpc (--raft-transport grpc)");
        assertThat(plain.withRaftTransport(RaftTransport.GRPC)
                        .withTls(files, TlsFiles.ClientAuth.NONE)
                        .raftTransport())
                .isEqualTo(RaftTransport.GRPC);
        assertThatThrownBy(() -> RaftTransport.parse("http"))
                .hasMessage("the Raft transport is grpc or netty, not 'http'");
    }

    @Test
    void threeNodesOnNettyReplicateFailOverAndRefuseAMemberOnGrpc() throws Exception {
        try (TestCluster cluster = new TestCluster(3, 0)) {
            for (int i = 0; i < 3; i++) {
                cluster.start(i, RaftTransport.NETTY);
            }
            int leader = cluster.awaitLeader(Duration.ofSeconds(60));
            assertThat(speaks(cluster, leader)).contains(RaftTransport.NETTY);
            LockClient client = cluster.open(OPTIONS);
            Lease held = client.lock("t/1").acquire(Duration.ofSeconds(10));

            cluster.stop(leader);
            int next = cluster.awaitLeader(Duration.ofSeconds(60));
            assertThat(next).isNotEqualTo(leader);
            org.awaitility.Awaitility.await()
                    .atMost(Duration.ofSeconds(15))
                    .until(() -> client.admin().isCurrentHolder("t/1", held.fencingToken()));
            client.lock("t/2").acquire(Duration.ofSeconds(10)).release();

            assertThatThrownBy(() -> cluster.start(leader, RaftTransport.GRPC))
                    .isInstanceOf(StartupException.class)
                    .hasMessageContaining("talks Raft over netty and node n" + (leader + 1) + " over grpc")
                    .hasMessageContaining("every member of a cluster uses the same --raft-transport");
            cluster.start(leader, RaftTransport.NETTY);
            held.release();
        }
    }

    @Test
    void aNodeOnNettyRefusesToJoinMembersOnGrpc() throws Exception {
        try (TestCluster cluster = new TestCluster(3, 0)) {
            cluster.start(0, RaftTransport.GRPC);
            cluster.start(1, RaftTransport.GRPC);
            int leader = cluster.awaitLeader(Duration.ofSeconds(60));
            assertThat(speaks(cluster, leader)).contains(RaftTransport.GRPC);
            assertThatThrownBy(() -> cluster.start(2, RaftTransport.NETTY))
                    .isInstanceOf(StartupException.class)
                    .hasMessageStartingWith("member n1, n2 talks Raft over grpc and node n3 over netty");
        }
    }

    /** What node {@code i}'s Raft port talks, as {@link TransportCheck#speaks} finds. */
    private static Optional<RaftTransport> speaks(TestCluster cluster, int i) {
        ServerConfig config = cluster.config(i);
        RaftPeer peer = RaftPeer.newBuilder()
                .setId(config.nodeId())
                .setAddress(config.self().raftAddress())
                .build();
        return TransportCheck.speaks(peer, RaftGroup.valueOf(RaftSettings.GROUP_ID, peer));
    }
}
