package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Three plaintext nodes, whose client ports speak frames and gRPC: leader hints for both, and a
 * leader's death seen through frames.
 */
class FramesClusterTest {
    private static final ClientOptions OPTIONS =
            ClientOptions.builder().sessionTtl(Duration.ofSeconds(10)).build();

    @Test
    void aClientThatKnowsOnlyAFollowerIsSentToTheLeaderAndAWaiterIsGrantedAcrossALeaderChange() throws Exception {
        try (TestCluster cluster = new TestCluster(3)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            int follower = (leader + 1) % 3;
            // Only the follower's address: without the leader hint the client has nowhere else to
            // go. Over frames (the default), and over gRPC spliced by the same port.
            String onlyFollower = "holdfast://"
                    + cluster.uri().substring("holdfast://".length()).split(",")[follower];
            for (String uri : new String[] {onlyFollower, onlyFollower + "?transport=grpc"}) {
                try (LockClient lone = LockClient.open(uri, OPTIONS)) {
                    Lease l = lone.lock("hint/1").acquire(Duration.ofSeconds(10));
                    assertThat(l.fencingToken()).as(uri).isPositive();
                    l.release();
                }
            }

            LockClient a = cluster.open(OPTIONS);
            LockClient b = cluster.open(OPTIONS);
            Lease held = a.lock("f/1").acquire(Duration.ofSeconds(5));
            CompletableFuture<Lease> waiting = b.lock("f/1").acquireAsync(Duration.ofSeconds(60));
            await().atMost(Duration.ofSeconds(5))
                    .until(() ->
                            a.admin().describe("f/1").orElseThrow().waiters().size() == 1);

            cluster.stop(leader);
            assertThat(cluster.awaitLeader(Duration.ofSeconds(30))).isNotEqualTo(leader);
            await().atMost(Duration.ofSeconds(15))
                    .untilAsserted(() -> assertThat(a.admin().isCurrentHolder("f/1", held.fencingToken()))
                            .isTrue());
            held.release();
            // The grant reaches b through its event stream, re-opened on the new leader over frames.
            Lease granted = waiting.get(30, TimeUnit.SECONDS);
            assertThat(granted.fencingToken()).isGreaterThan(held.fencingToken());
            granted.release();
        }
    }
}
