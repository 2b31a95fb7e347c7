package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.junit.jupiter.api.Test;

/**
 * A member whose data directory is lost must not come back as a voter under its old id (see {@link
 * RejoinGuard}): with an empty log it would vote for a candidate that lacks entries it acknowledged.
 * Real three-node clusters on loopback.
 */
class RejoinGuardTest {
    private static final ClientOptions OPTIONS =
            ClientOptions.builder().sessionTtl(Duration.ofSeconds(10)).build();

    @Test
    void aMemberRestartedWithAnEmptyDataDirectoryIsRefusedWithOneLine() throws Exception {
        try (TestCluster cluster = new TestCluster(3, 3)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            int wiped = (leader + 1) % 3;
            LockClient client = cluster.open(OPTIONS);
            Lease held = client.lock("rejoin/held").acquire(Duration.ofSeconds(5));
            awaitKnownToRan(cluster, leader, wiped);

            cluster.stop(wiped);
            cluster.wipe(wiped);
            assertThatThrownBy(() -> cluster.start(wiped))
                    .isInstanceOf(HoldfastServer.StartupException.class)
                    .hasMessageContaining("node n" + (wiped + 1) + " has an empty data directory")
                    .hasMessageContaining("knows it as a member that ran")
                    .hasMessageContaining("docs/server.md")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
            assertThat(cluster.node(wiped)).as("nothing left running").isNull();

            // The two others still serve, and the grant is still there.
            assertThat(client.admin().isCurrentHolder("rejoin/held", held.fencingToken()))
                    .isTrue();
        }
    }

    @Test
    void aMemberThatNeverRanJoinsLateWithoutBeingRefused() throws Exception {
        try (TestCluster cluster = new TestCluster(3, 2)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            LockClient client = cluster.open(OPTIONS);
            for (int i = 0; i < 5; i++) {
                client.lock("rejoin/late").acquire(Duration.ofSeconds(5)).release();
            }
            assertThat(knownBy(cluster, leader, 2).orElse(0L))
                    .as("the commit index the leader heard from n3 (-1: none)")
                    .isLessThanOrEqualTo(0L);

            cluster.start(2); // n3's first start, its data directory empty: not refused
            await().atMost(Duration.ofSeconds(30))
                    .untilAsserted(() -> assertThat(cluster.node(2).lastAppliedIndex())
                            .isGreaterThanOrEqualTo(cluster.node(leader).lastAppliedIndex()));
        }
    }

    /** Until {@code peer} reports a commit index above 0 for {@code member} (heartbeats carry it). */
    private static void awaitKnownToRan(TestCluster cluster, int peer, int member) {
        await("n" + (peer + 1) + " hears n" + (member + 1) + "'s commit index")
                .atMost(Duration.ofSeconds(20))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> knownBy(cluster, peer, member).orElse(0L) > 0);
    }

    private static Optional<Long> knownBy(TestCluster cluster, int peer, int member) throws Exception {
        List<RaftPeer> peers = new ArrayList<>();
        for (Map.Entry<String, ServerConfig.Peer> e : cluster.config(0).peers().entrySet()) {
            peers.add(RaftPeer.newBuilder()
                    .setId(e.getKey())
                    .setAddress(e.getValue().raftAddress())
                    .build());
        }
        RaftGroup group = RaftGroup.valueOf(HoldfastServer.GROUP_ID, peers);
        RaftPeer asked = group.getPeer(RaftPeerId.valueOf("n" + (peer + 1)));
        return RejoinGuard.commitIndexKnownBy(asked, RaftPeerId.valueOf("n" + (member + 1)), group, new Parameters());
    }
}
