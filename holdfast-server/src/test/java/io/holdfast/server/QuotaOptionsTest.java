package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.core.LockTable;
import io.holdfast.core.Quotas;
import io.holdfast.core.Vocabulary;
import java.time.Duration;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The quotas while access control is off, from a node's options ({@code --limit}): the leader
 * proposes them through the log, every replica has them in force at the same entry, and they stay
 * in force across a restart and a change of leader, over HTTP as an unauthenticated client meets
 * them. A node without the option keeps the defaults, and one restarted without it brings them
 * back.
 */
class QuotaOptionsTest {
    private static final Quotas THREE = Quotas.of(Map.of("sessions-per-identity", "3"), "");

    /** Opens one session over HTTP, for a minute (it outlives the restarts); the answer. */
    private static TestHttp.Answer open(TestCluster cluster, int node) throws Exception {
        return TestHttp.plain(cluster.node(node).httpPort()).post("/api/v1/sessions", "{\"ttlMillis\":60000}");
    }

    /** Waits until node {@code i} serves clients as the leader, then opens one session there. */
    private static TestHttp.Answer openWhenServed(TestCluster cluster, int i) {
        return Awaitility.await("the leader serves")
                .atMost(Duration.ofSeconds(30))
                .until(() -> open(cluster, i), a -> a.status() != 503);
    }

    /** Whether every running node's replica has {@code quotas} in force. */
    private static boolean everyReplicaHas(TestCluster cluster, Quotas quotas) {
        for (int i = 0; i < cluster.size(); i++) {
            HoldfastServer node = cluster.node(i);
            if (node != null && !quotas.equals(node.parts().machine().read(LockTable::quotas))) {
                return false;
            }
        }
        return true;
    }

    private static void awaitQuotas(TestCluster cluster, Quotas quotas) {
        Awaitility.await("the quotas in force on every replica")
                .atMost(Duration.ofSeconds(30))
                .until(() -> everyReplicaHas(cluster, quotas));
    }

    /** The refusal of one more session when {@code open} are open under the quota of three. */
    private static void assertRefused(TestHttp.Answer answer, int open) {
        assertThat(answer.status()).as(answer.body()).isEqualTo(429);
        assertThat(answer.json().at("/error/code").asText()).isEqualTo("QUOTA_EXCEEDED");
        assertThat(answer.json().at("/error/message").asText())
                .isEqualTo("an unauthenticated client has " + open
                        + " open sessions; the quota sessions-per-identity is 3");
    }

    @Test
    void everyReplicaRefusesTheFourthSessionAndANewLeaderKeepsTheQuota() throws Exception {
        try (TestCluster cluster = TestCluster.withHttp(3, Duration.ofMillis(400), 0)) {
            cluster.quotas(THREE);
            for (int i = 0; i < 3; i++) {
                cluster.start(i);
            }
            int leader = cluster.awaitLeader(Duration.ofSeconds(60));
            awaitQuotas(cluster, THREE);
            for (int i = 0; i < 3; i++) {
                // When served: Raft's leader answers 503 until its leader duties have run (a CI
                // rehearsal, 2026-12-01: a first open answered "the leader is not known yet", as
                // such a leader said then).
                TestHttp.Answer opened = openWhenServed(cluster, leader);
                assertThat(opened.status()).as(opened.body()).isEqualTo(201);
            }
            assertRefused(open(cluster, leader), 3);

            int follower = (leader + 1) % 3;
            TestHttp.Answer status =
                    TestHttp.plain(cluster.node(follower).httpPort()).get("/api/v1/status");
            assertThat(status.json().at("/quotas/sessions-per-identity").asLong())
                    .isEqualTo(3);
            assertThat(status.json().at("/quotas/holds-per-session").asLong())
                    .isEqualTo(Quotas.DEFAULTS.holdsPerSession());
            assertThat(status.json().get("accessControl").asBoolean()).isFalse();

            cluster.stop(leader);
            int next = cluster.awaitLeader(Duration.ofSeconds(60));
            assertRefused(openWhenServed(cluster, next), 3);
        }
    }

    /**
     * A member of protocol version 6 cannot read the command: the leader waits, the defaults stay in
     * force (a fourth session is opened), and once that member runs this build and reports 7 the
     * quota comes into force on every replica.
     */
    @Test
    void theQuotaWaitsForEveryMemberToSpeakVersionSeven() throws Exception {
        try (TestCluster cluster = TestCluster.withHttp(3, Duration.ofMillis(400), 0)) {
            cluster.quotas(THREE);
            cluster.start(0);
            cluster.start(1);
            cluster.start(2, Vocabulary.CURRENT.atVersion(6));
            int leader = cluster.awaitLeader(Duration.ofSeconds(60));
            Awaitility.await("every member's report")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> cluster.node(leader)
                            .parts()
                            .machine()
                            .read(t -> t.memberVersions())
                            .equals(Map.of("n1", Vocabulary.VERSION, "n2", Vocabulary.VERSION, "n3", 6)));
            for (int i = 0; i < 4; i++) {
                TestHttp.Answer opened = openWhenServed(cluster, cluster.awaitLeader(Duration.ofSeconds(60)));
                assertThat(opened.status()).as(opened.body()).isEqualTo(201);
            }
            assertThat(everyReplicaHas(cluster, Quotas.DEFAULTS)).isTrue();

            cluster.stop(2);
            cluster.start(2);
            awaitQuotas(cluster, THREE);
            assertRefused(openWhenServed(cluster, cluster.awaitLeader(Duration.ofSeconds(60))), 4);
        }
    }

    @Test
    void theQuotaOutlivesARestartAndANodeWithoutTheOptionHasTheDefaults() throws Exception {
        try (TestCluster cluster = TestCluster.withHttp(1, Duration.ofMillis(400), 0)) {
            cluster.start(0);
            cluster.awaitLeader(Duration.ofSeconds(30));
            for (int i = 0; i < 4; i++) {
                TestHttp.Answer opened = openWhenServed(cluster, 0);
                assertThat(opened.status()).as(opened.body()).isEqualTo(201);
            }
            assertThat(cluster.node(0).parts().machine().read(LockTable::openQuotas))
                    .isEqualTo(Quotas.DEFAULTS);

            cluster.stop(0);
            cluster.quotas(THREE);
            cluster.start(0);
            cluster.awaitLeader(Duration.ofSeconds(30));
            awaitQuotas(cluster, THREE);
            // The four sessions opened before are still open (a quota refuses new ones only).
            assertRefused(openWhenServed(cluster, 0), 4);

            cluster.stop(0);
            cluster.start(0);
            cluster.awaitLeader(Duration.ofSeconds(30));
            assertRefused(openWhenServed(cluster, 0), 4);

            cluster.stop(0);
            cluster.quotas(Quotas.DEFAULTS);
            cluster.start(0);
            cluster.awaitLeader(Duration.ofSeconds(30));
            awaitQuotas(cluster, Quotas.DEFAULTS);
            TestHttp.Answer fifth = openWhenServed(cluster, 0);
            assertThat(fifth.status()).as(fifth.body()).isEqualTo(201);
        }
    }
}
