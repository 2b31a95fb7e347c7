package io.holdfast.server;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.server.config.RaftSettings;
import io.holdfast.server.leadership.LeaderLink;
import io.holdfast.server.raft.TableQuery;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.TransferLeadershipRequest;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * A member's link to the leader that follows a new leader (the relay's) takes its next request
 * there at once: the old client is handed to the link's closer, not closed on the request's path.
 * Ratis closes a client's channel by waiting up to 3 s for the calls on it to end; closed on the
 * request's path, a client whose stream had requests still pending at a member held the relay of
 * stop 90's CI rehearsal 3.4 s after its member followed the new leader. Here the closes are kept
 * unrun, so a close on the request's path would not reach them. Three real nodes; the leadership
 * moves by a transfer.
 */
class LeaderLinkNewLeaderTest {
    @Test
    void theFirstRequestAfterANewLeaderIsSentWithoutWaitingForTheOldClientsClose() throws Exception {
        try (TestCluster cluster = new TestCluster(3)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            int member = (leader + 1) % 3;
            int next = (leader + 2) % 3;
            RaftServer raft = cluster.node(member).parts().raft();
            // The link's closes, kept unrun until the end: a close on the request's path would
            // not come here, and the request would wait for it.
            List<Runnable> closes = new CopyOnWriteArrayList<>();
            try (LeaderLink link = new LeaderLink(
                    raft,
                    RaftSettings.GROUP_ID,
                    RaftSettings.parameters(cluster.node(member).parts().config()),
                    1_000,
                    1,
                    true,
                    closes::add)) {
                TableQuery round = new TableQuery.TouchSessions(List.of());
                Awaitility.await("the link reaches the first leader")
                        .atMost(Duration.ofSeconds(20))
                        .ignoreExceptions()
                        .until(() -> link.askAsync(round).get(5, SECONDS) != null);

                RaftServer from = cluster.node(leader).parts().raft();
                RaftPeerId to =
                        RaftPeerId.valueOf(cluster.node(next).parts().config().nodeId());
                // A transfer right after the start may be refused while the members settle (CI,
                // 2026-12-05: "DIFFERENT_LEADER, logIndex=0"): asked again until the leadership moved.
                List<RaftClientReply> refused = new CopyOnWriteArrayList<>();
                Awaitility.await("the leadership moves to " + to + " (refused: " + refused + ")")
                        .atMost(Duration.ofSeconds(40))
                        .pollInterval(Duration.ofMillis(500))
                        .until(() -> {
                            if (!to.equals(from.getDivision(RaftSettings.GROUP_ID)
                                    .getInfo()
                                    .getLeaderId())) {
                                RaftClientReply moved = from.transferLeadershipAsync(new TransferLeadershipRequest(
                                                ClientId.randomId(),
                                                from.getId(),
                                                RaftSettings.GROUP_ID,
                                                0,
                                                to,
                                                10_000))
                                        .get(20, SECONDS);
                                if (!moved.isSuccess()) {
                                    refused.add(moved);
                                }
                            }
                            return to.equals(from.getDivision(RaftSettings.GROUP_ID)
                                    .getInfo()
                                    .getLeaderId());
                        });
                Awaitility.await("the member follows the new leader")
                        .atMost(Duration.ofSeconds(20))
                        .until(() -> to.equals(raft.getDivision(RaftSettings.GROUP_ID)
                                .getInfo()
                                .getLeaderId()));

                long sent = System.nanoTime();
                CompletableFuture<ByteString> answer = link.askAsync(round);
                long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
                assertThat(millis)
                        .as(
                                "the request left without waiting for the old client's close (up to 3 s while its stream has requests pending)")
                        .isLessThan(1_500);
                assertThat(answer.get(20, SECONDS))
                        .as("the new leader answered")
                        .isNotNull();
                assertThat(closes)
                        .as("the client the link let go of is closed apart from the request")
                        .hasSize(1);
                closes.forEach(Runnable::run);
            }
        }
    }
}
