package io.holdfast.server;

import static io.holdfast.server.KeysOverGrpcTest.bytes;
import static io.holdfast.server.KeysOverGrpcTest.get;
import static io.holdfast.server.KeysOverGrpcTest.next;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.holdfast.client.internal.ClusterTransport;
import io.holdfast.client.internal.MemberAddress;
import io.holdfast.model.Command;
import io.holdfast.model.KeyPage;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import io.holdfast.protocol.v1.HoldfastGrpc;
import io.holdfast.protocol.v1.KeysRequest;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code Keys} is a linearizable read: a follower answers it itself through the leader's read
 * index (ADR 0003; it answered {@code UNAVAILABLE} naming the leader before members served
 * sessions), with the write the leader acknowledged a moment before, and so does a client's
 * transport given only that follower.
 */
class KeysAtTheLeaderTest {
    @Test
    void aFollowerAnswersWithTheLeadersLatestWrite() throws Exception {
        try (TestCluster cluster = new TestCluster(3);
                ClusterTransport admin = ClusterVersionTest.admin(cluster)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            String session = "keys-leader-session-01";
            assertThat(get(admin.submit(new Command.OpenSession(session, "raw", 60_000, 0))))
                    .isEqualTo(Reply.Ok.INSTANCE);
            assertThat(get(admin.submit(new RegisterSet(next(session), "at/leader", 0, bytes("v"), null, 0))))
                    .isEqualTo(new Reply.Written(1));
            int follower = (leader + 1) % 3;
            int port = cluster.node(follower).clientPort();

            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port)
                    .usePlaintext()
                    .build();
            try {
                FollowerSessionTest.followerThatKnowsTheLeader(cluster, leader);
                var page = HoldfastGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(10, TimeUnit.SECONDS)
                        .keys(KeysRequest.newBuilder().setPrefix("at/").build());
                assertThat(page.getKeysList()).hasSize(1);
                assertThat(page.getKeys(0).getKey()).isEqualTo("at/leader");
            } finally {
                channel.shutdownNow();
            }

            try (ClusterTransport viaFollower =
                    new ClusterTransport(List.of(new MemberAddress("127.0.0.1", port)), Duration.ofSeconds(10))) {
                KeyPage page = get(viaFollower.keys(null, "at/", null, 10));
                assertThat(page.keys()).extracting(KeyPage.Entry::key).containsExactly("at/leader");
            }
        }
    }
}
