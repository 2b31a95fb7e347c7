package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * What a node that does not serve tells its client, in one line naming the real cause: a follower
 * names the leader's client address; Raft's own leader, before its term serves (its first entry
 * applied, every session given a fresh TTL), says so, rather than that the leader is not known (a
 * CI rehearsal, 2026-12-01, met that answer from a new leader).
 */
class NotLeaderMessageTest {
    @Test
    void aFollowerNamesTheLeaderAndANewLeaderSaysItIsGettingReady() throws Exception {
        try (TestCluster cluster = new TestCluster(3)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(30));
            int follower = (leader + 1) % 3;
            assertThat(cluster.node(leader).parts().gateway().notLeader().getMessage())
                    .as("Raft's leader, asked why it does not serve")
                    .isEqualTo("this node is Raft's leader but does not serve yet; a new leader first applies its"
                            + " term's first entry and gives every session a fresh TTL: ask again in a moment");
            io.holdfast.model.NotLeaderException atFollower =
                    cluster.node(follower).parts().gateway().notLeader();
            assertThat(atFollower.getMessage())
                    .isEqualTo("this node is not the leader; the leader is at 127.0.0.1:"
                            + cluster.node(leader).clientPort());
        }
    }
}
