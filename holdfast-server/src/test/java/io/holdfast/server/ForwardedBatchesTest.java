package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.AcquireOptions;
import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A burst of writes at a follower reaches the leader in batches ({@code ForwardBatch}), so the
 * leader's proposer puts many of them in each log entry, as it does for its own clients' writes:
 * forwarded one request each, a bulk of acquires homed over the members got about three to an
 * entry, against 36 at the leader (docs/benchmarks.md, 2026-12-06). Every write is still answered
 * with its own reply.
 */
class ForwardedBatchesTest {
    private static final int WRITES = 600;

    @Test
    void aBurstOfWritesAtAFollowerSharesLogEntries() throws Exception {
        try (TestCluster cluster = new TestCluster(3)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            int follower = FollowerSessionTest.followerThatKnowsTheLeader(cluster, leader);
            try (LockClient client =
                    LockClient.open(FollowerCommitTest.homedOn(cluster, follower), ClientOptions.defaults())) {
                client.lock("warm").acquire(Duration.ofSeconds(10)).release();
                long before = cluster.node(leader).status().appliedIndex();
                List<CompletableFuture<Lease>> acquires = new ArrayList<>();
                for (int i = 0; i < WRITES; i++) {
                    acquires.add(client.lock("burst/" + i).acquireAsync(AcquireOptions.tryOnce()));
                }
                List<Long> tokens = new ArrayList<>();
                for (CompletableFuture<Lease> a : acquires) {
                    tokens.add(a.get(30, TimeUnit.SECONDS).fencingToken());
                }
                long entries = cluster.node(leader).status().appliedIndex() - before;
                assertThat(tokens)
                        .as("every write its own grant")
                        .doesNotHaveDuplicates()
                        .hasSize(WRITES);
                assertThat(cluster.leaderIndex())
                        .as("the leader did not change")
                        .isEqualTo(leader);
                assertThat(entries)
                        .as("log entries for %d acquires at a follower", WRITES)
                        .isLessThanOrEqualTo(WRITES / 10);
            }
        }
    }
}
