package io.holdfast.server;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.core.PlantedBug;
import io.holdfast.model.Command;
import io.holdfast.model.LockService;
import io.holdfast.model.Reply;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/**
 * A member cut off from the majority while a client's session lives there (ADR 0003): it never
 * acknowledges a heartbeat on its own say, so its client stops counting on its leases within its
 * TTL, as the majority (which may expire the session) does. With the planted bug
 * follower-extends-ttl it does acknowledge them, and this test's check catches it.
 */
class CutOffMemberTest {
    private static final long TTL_MILLIS = 3_000;

    /**
     * Opens a session at a follower, then crashes the two other members (the leader among them),
     * and sends heartbeats to the follower for longer than the TTL: what it acknowledged after the
     * cut, as "ms after the cut".
     */
    private static List<String> acknowledgedAfterTheCut(Set<PlantedBug> bugs) throws Exception {
        try (TestCluster cluster = new TestCluster(3, bugs)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            int home = FollowerSessionTest.followerThatKnowsTheLeader(cluster, leader);
            LockService at = cluster.node(home).parts().service();
            String id = "cut" + UUID.randomUUID().toString().replace("-", "");
            assertThat(at.submit(new Command.OpenSession(id, "cut-off", TTL_MILLIS, 0))
                            .get(10, SECONDS))
                    .isEqualTo(Reply.Ok.INSTANCE);
            assertThat(at.keepAlive(id).get(10, SECONDS)).isEqualTo(Reply.Ok.INSTANCE);

            for (int i = 0; i < cluster.size(); i++) {
                if (i != home) {
                    cluster.crash(i);
                }
            }
            long cut = System.nanoTime();
            List<String> acked = new ArrayList<>();
            while (System.nanoTime() - cut
                    < Duration.ofMillis(TTL_MILLIS + 1_000).toNanos()) {
                long sent = System.nanoTime();
                try {
                    Reply r = at.keepAlive(id).get(5, SECONDS);
                    if (r == Reply.Ok.INSTANCE) {
                        acked.add((sent - cut) / 1_000_000 + " ms");
                    }
                } catch (ExecutionException | TimeoutException refused) {
                    // what a cut-off member must answer: UNAVAILABLE, the client moves
                }
                Thread.sleep(TTL_MILLIS / 10); // the client's pace after a failed heartbeat
            }
            return acked;
        }
    }

    @Test
    void aMemberCutOffFromTheMajorityAcknowledgesNoHeartbeat() throws Exception {
        assertThat(acknowledgedAfterTheCut(Set.of()))
                .as("heartbeats the cut-off member acknowledged (ms after the cut)")
                .isEmpty();
    }

    /** The test of the test: the same run with the planted bug must acknowledge, and be caught. */
    @Test
    void thePlantedFollowerExtendsTtlIsCaught() throws Exception {
        assertThat(acknowledgedAfterTheCut(Set.of(PlantedBug.FOLLOWER_EXTENDS_TTL)))
                .as("the planted bug acknowledges heartbeats no leader saw")
                .isNotEmpty();
    }
}
