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

/** Three nodes serving frames: leader hints over frames, and a leader's death seen through them. */
class FramesClusterTest {
    private static final ClientOptions OPTIONS =
            ClientOptions.builder().sessionTtl(Duration.ofSeconds(10)).build();

    @Test
    void aClientThatKnowsOnlyAFollowerIsSentToTheLeaderAndAWaiterIsGrantedAcrossALeaderChange() throws Exception {
        try (TestCluster cluster = TestCluster.overFrames(3)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            int follower = (leader + 1) % 3;
            // Only the follower's frame address: without a leader hint shifted to the leader's frame
            // port, the client has nowhere else to go.
            String all = cluster.uri();
            String onlyFollower = "holdfast://"
                    + all.substring("holdfast://".length(), all.indexOf('?')).split(",")[follower]
                    + "?transport=frames";
            try (LockClient lone = LockClient.open(onlyFollower, OPTIONS)) {
                Lease l = lone.lock("hint/1").acquire(Duration.ofSeconds(10));
                assertThat(l.fencingToken()).isPositive();
                l.release();
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

    @Test
    void aHintIsTheLeadersClientAddressMovedByThisNodesOffset() {
        assertThat(HoldfastServer.shifted("10.0.0.2:4653", 3)).isEqualTo("10.0.0.2:4656");
        assertThat(HoldfastServer.shifted("[::1]:4653", -1)).isEqualTo("[::1]:4652");
        assertThat(HoldfastServer.shifted("10.0.0.2:65535", 3)).isNull();
        assertThat(HoldfastServer.shifted("no-port", 3)).isNull();
    }
}
