package io.holdfast.server;

import static io.holdfast.server.KeysOverGrpcTest.bytes;
import static io.holdfast.server.KeysOverGrpcTest.get;
import static io.holdfast.server.KeysOverGrpcTest.next;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.holdfast.client.internal.ClusterTransport;
import io.holdfast.client.internal.MemberAddress;
import io.holdfast.model.Command;
import io.holdfast.model.KeyPage;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import io.holdfast.protocol.GrpcErrors;
import io.holdfast.protocol.v1.HoldfastGrpc;
import io.holdfast.protocol.v1.KeysRequest;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code Keys} is a leader read: a follower answers it {@code UNAVAILABLE} naming the leader in
 * {@code holdfast-leader}, as it answers the other reads, and the client's transport, given only
 * that follower, follows it there and gets the page.
 */
class KeysAtTheLeaderTest {
    @Test
    void aFollowerSendsTheCallerToTheLeaderAndTheTransportFollows() throws Exception {
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
                assertThatThrownBy(() -> HoldfastGrpc.newBlockingStub(channel)
                                .withDeadlineAfter(10, TimeUnit.SECONDS)
                                .keys(KeysRequest.newBuilder().setPrefix("at/").build()))
                        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                            assertThat(e.getTrailers().get(GrpcErrors.LEADER))
                                    .isEqualTo(
                                            "127.0.0.1:" + cluster.node(leader).clientPort());
                        });
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
