package io.holdfast.server;

import static io.holdfast.server.MembershipTest.add;
import static io.holdfast.server.MembershipTest.admin;
import static io.holdfast.server.MembershipTest.get;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.client.internal.ClusterTransport;
import io.holdfast.model.MembershipChange;
import java.time.Duration;
import org.apache.ratis.util.LifeCycle;
import org.junit.jupiter.api.Test;

/**
 * {@code /ready} says whether a node serves (real nodes on loopback): a node the members do not
 * count, or one Ratis has not started (a learner it holds in STARTING), is not ready, and says why,
 * even while it knows the leader.
 */
class ReadinessTest {
    @Test
    void aNewMemberIsNotReadyUntilRatisRunsItAndSaysWhy() throws Exception {
        try (TestCluster cluster = TestCluster.withMembersAndHttp(2, 1);
                ClusterTransport admin = admin(cluster)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            TestHttp.Answer leading = ready(cluster, leader);
            assertThat(leading.status()).isEqualTo(200);
            assertThat(leading.json().get("ready").asBoolean()).isTrue();

            // Started empty, not counted by the members: it knows no members and no leader.
            cluster.start(1);
            TestHttp.Answer waiting = ready(cluster, 1);
            assertThat(waiting.status()).isEqualTo(503);
            assertThat(waiting.json().get("ready").asBoolean()).isFalse();
            assertThat(waiting.json().get("reason").asText())
                    .startsWith("n2 is not a member: the members recorded here are none")
                    .contains("holdfast members add");

            // Added as a learner, it receives the log and knows the leader, but Ratis keeps it in
            // STARTING and refuses it every request: not ready.
            add(admin, cluster, 1, true);
            MembershipTest.awaitCaughtUp(cluster, 1);
            assertThat(cluster.node(1).status().leaderId()).isNotNull();
            assertThat(cluster.node(1).parts().division().getInfo().getLifeCycleState())
                    .isEqualTo(LifeCycle.State.STARTING);
            TestHttp.Answer learner = ready(cluster, 1);
            assertThat(learner.status()).as(learner.body()).isEqualTo(503);
            assertThat(learner.json().get("reason").asText())
                    .startsWith("n2 is a learner that Ratis has not started (STARTING)")
                    .contains("holdfast members promote n2");

            // Promoted, with no other voter to hand the leadership to, Ratis keeps it in STARTING.
            get(admin.changeMembers(null, new MembershipChange.Promote("n2")));
            TestHttp.Answer promoted = ready(cluster, 1);
            assertThat(promoted.status()).as(promoted.body()).isEqualTo(503);
            assertThat(promoted.json().get("reason").asText())
                    .startsWith("n2 is a voter that Ratis has not started (STARTING)")
                    .contains("holdfast members transfer-leader");
        }
    }

    private static TestHttp.Answer ready(TestCluster cluster, int i) throws Exception {
        return TestHttp.plain(cluster.node(i).httpPort()).get("/ready");
    }
}
