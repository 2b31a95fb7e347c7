package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.holdfast.ConflictException;
import io.holdfast.ErrorCode;
import io.holdfast.client.internal.ClusterTransport;
import io.holdfast.core.LockTable;
import io.holdfast.core.Vocabulary;
import io.holdfast.model.ClusterInfo;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The cluster's version through a change of the members (real nodes on loopback): a member that
 * has not reported its version does not lower the cluster's, so a register write fenced by
 * another session's grant is refused during the join as before it; and a voter is admitted only
 * once it reported at least the cluster's version.
 */
class JoinVersionTest {
    private static final int V = Vocabulary.VERSION;

    @Test
    void aMemberThatHasNotReportedLowersNeitherTheVersionNorTheFenceCheck() throws Exception {
        try (TestCluster cluster = TestCluster.withMembers(4, 3);
                ClusterTransport wire = ClusterVersionTest.admin(cluster)) {
            cluster.awaitLeader(Duration.ofSeconds(20));
            ClusterVersionTest.awaitVersions(wire, Map.of("n1", V, "n2", V, "n3", V));
            awaitFloor(cluster, V);
            long token = RegisterFenceVersionTest.holdLock(wire);

            // n4 joins and never reports: the whole join is "before it reports".
            cluster.startUnreported(3);
            ClusterInfo joined = get(wire.changeMembers(null, cluster.addition(3, true)));
            assertThat(joined.members()).extracting(ClusterInfo.Member::id).contains("n4");

            RegisterSet forged = RegisterFenceVersionTest.write(RegisterFenceVersionTest.FORGER, "fence/forged", token);
            Reply refused = get(wire.submit(forged));
            assertThat(refused).isInstanceOf(Reply.Failed.class);
            assertThat(((Reply.Failed) refused).code()).isEqualTo(ErrorCode.CONFLICT);
            assertThat(((Reply.Failed) refused).message()).contains("belongs to another session");
            assertThat(get(wire.readRegister("fence/forged"))).isEmpty();
            assertThat(RegisterFenceVersionTest.loggedType(cluster, forged)).isEqualTo(16);
            ClusterInfo info = get(wire.cluster());
            assertThat(info.members())
                    .filteredOn(m -> m.id().equals("n4"))
                    .extracting(ClusterInfo.Member::version)
                    .containsOnlyNulls();
            assertThat(info.clusterVersion()).as("unchanged by n4").isEqualTo(V);
        }
    }

    @Test
    void aVoterIsAdmittedOnlyOnceItReportsTheClusterVersion() throws Exception {
        try (TestCluster cluster = TestCluster.withMembers(5, 3);
                ClusterTransport wire = ClusterVersionTest.admin(cluster)) {
            cluster.awaitLeader(Duration.ofSeconds(20));
            ClusterVersionTest.awaitVersions(wire, Map.of("n1", V, "n2", V, "n3", V));
            awaitFloor(cluster, V);

            // An older build: it reports before it is added (to the leader its --peers name).
            cluster.start(3, Vocabulary.CURRENT.atVersion(V - 1));
            assertThatThrownBy(() -> get(wire.changeMembers(null, cluster.addition(3, false))))
                    .hasCauseInstanceOf(ConflictException.class)
                    .hasMessageContaining("could not add n4")
                    .hasMessageContaining("n4 speaks protocol version " + (V - 1) + " and the cluster speaks " + V)
                    .hasMessageContaining("the members are as they were");
            assertThat(MembershipTest.voters(get(wire.cluster()))).containsExactly("n1", "n2", "n3");

            // This build is admitted, and has reported by the time it counts.
            cluster.start(4);
            ClusterInfo after = get(wire.changeMembers(null, cluster.addition(4, false)));
            assertThat(MembershipTest.voters(after)).containsExactly("n1", "n2", "n3", "n5");
            assertThat(after.members())
                    .filteredOn(m -> m.id().equals("n5"))
                    .extracting(ClusterInfo.Member::version)
                    .containsExactly(V);
            assertThat(after.clusterVersion()).isEqualTo(V);
        }
    }

    /**
     * A new member whose {@code --peers} does not name the leader (one that joined later, then took
     * over) still reports to it and is admitted: the member it asks names the leader and gives the
     * members with their addresses. Before, its report went to "Server n4 not found" until the
     * leader gave up on it.
     */
    @Test
    void aNewMemberReportsToALeaderItsPeersDoNotName() throws Exception {
        try (TestCluster cluster = TestCluster.withMembers(5, 3);
                ClusterTransport wire = ClusterVersionTest.admin(cluster)) {
            cluster.awaitLeader(Duration.ofSeconds(20));
            ClusterVersionTest.awaitVersions(wire, Map.of("n1", V, "n2", V, "n3", V));
            cluster.start(3);
            get(wire.changeMembers(null, cluster.addition(3, false)));
            get(wire.changeMembers(null, new io.holdfast.model.MembershipChange.TransferLeader("n4")));
            await("n4 leads").atMost(Duration.ofSeconds(20)).until(() -> cluster.leaderIndex() == 3);

            cluster.start(4); // its --peers: n1, n2, n3 and itself
            ClusterInfo after = get(wire.changeMembers(null, cluster.addition(4, false)));
            assertThat(MembershipTest.voters(after)).containsExactly("n1", "n2", "n3", "n4", "n5");
        }
    }

    /** Waits until every running node's table holds the cluster's version {@code v} as recorded. */
    private static void awaitFloor(TestCluster cluster, int v) {
        await("the cluster's version recorded")
                .atMost(Duration.ofSeconds(20))
                .until(() -> cluster.node(cluster.awaitLeader(Duration.ofSeconds(20)))
                                .parts()
                                .machine()
                                .read(LockTable::versionFloor)
                        == v);
    }

    private static <T> T get(CompletableFuture<T> f) throws Exception {
        return f.get(60, TimeUnit.SECONDS);
    }
}
