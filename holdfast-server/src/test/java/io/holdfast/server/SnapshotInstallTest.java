package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A follower that was down while the leader snapshotted and purged its log can only catch up from
 * a snapshot sent by the leader (InstallSnapshot). Ratis pauses the state machine first and checks
 * that it is PAUSED before reloading it; a state machine whose pause did nothing made the follower
 * close its Raft division for good (found by {@code holdfast verify}'s snapshot-catch-up).
 */
class SnapshotInstallTest {
    private static final String SNAPSHOT_EVERY = "holdfast.raft.snapshotEvery";
    private static final ClientOptions OPTIONS =
            ClientOptions.builder().sessionTtl(Duration.ofSeconds(10)).build();

    @BeforeEach
    void smallSnapshotsAndSegments() {
        System.setProperty(SNAPSHOT_EVERY, "50");
    }

    @AfterEach
    void back() {
        System.clearProperty(SNAPSHOT_EVERY);
    }

    @Test
    void aFollowerBehindAPurgedLogCatchesUpFromTheLeadersSnapshot() throws Exception {
        try (TestCluster cluster = new TestCluster(3)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            int follower = (leader + 1) % 3;
            LockClient client = cluster.open(OPTIONS);
            Lease kept = client.lock("snap/kept").acquire(Duration.ofSeconds(5));
            cluster.stop(follower);

            // Enough entries to roll several 8 KB log segments, then snapshots that purge them.
            for (int i = 0; i < 300; i++) {
                client.lock("snap/" + (i % 7)).acquire(Duration.ofSeconds(5)).release();
            }
            long snapshot = cluster.node(leader).parts().machine().takeSnapshot();
            client.lock("snap/after").acquire(Duration.ofSeconds(5)).release();
            cluster.node(leader).parts().machine().takeSnapshot();
            assertThat(snapshot).isPositive();
            assertThat(segmentsStartingAtOrBefore(cluster.node(leader), 1))
                    .as("the leader purged the start of its log")
                    .isZero();

            cluster.start(follower);
            await().atMost(Duration.ofSeconds(60))
                    .untilAsserted(
                            () -> assertThat(cluster.node(follower).status().appliedIndex())
                                    .isGreaterThanOrEqualTo(
                                            cluster.node(leader).status().appliedIndex()));
            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(
                                    cluster.node(follower).parts().machine().tableBytes())
                            .isEqualTo(cluster.node(leader).parts().machine().tableBytes()));
            assertThat(client.admin().isCurrentHolder("snap/kept", kept.fencingToken()))
                    .isTrue();
        }
    }

    /**
     * A purge keeps the last half snapshot-interval of the log (here 25 entries, with snapshots every
     * 50), so that a follower a few entries behind is caught up from the log and not sent a
     * snapshot. Ratis 3.3.0 broke the log writer of a follower sent a snapshot its log already ran
     * past, and the node halted (a soak round: multi-lock, seed 4062691927; see {@code
     * RaftSettings}). Without the setting the leader purges every closed segment up to its snapshot
     * and keeps only its open segment, fewer entries than that.
     */
    @Test
    void aPurgeKeepsTheLastHalfSnapshotIntervalOfTheLog() throws Exception {
        try (TestCluster cluster = new TestCluster(3)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            LockClient client = cluster.open(OPTIONS);
            for (int i = 0; i < 300; i++) {
                client.lock("keep/" + (i % 7)).acquire(Duration.ofSeconds(5)).release();
            }
            HoldfastServer node = cluster.node(leader);
            long snapshot = node.parts().machine().takeSnapshot();
            var log = node.parts().division().getRaftLog();
            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(log.getStartIndex())
                            .as("the leader purged the start of its log")
                            .isGreaterThan(100));
            long last = log.getNextIndex() - 1;
            assertThat(snapshot).isGreaterThanOrEqualTo(last - 5);
            assertThat(last - log.getStartIndex() + 1)
                    .as(
                            "entries kept after the purge (log %d..%d, snapshot at %d)",
                            log.getStartIndex(), last, snapshot)
                    .isGreaterThanOrEqualTo(25);
        }
    }

    /** Log segment files of the node whose first index is at most {@code index}. */
    private static long segmentsStartingAtOrBefore(HoldfastServer node, long index) throws Exception {
        Path raft = node.config().dataDir().resolve("raft");
        try (Stream<Path> files = Files.walk(raft)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith("log_"))
                    .filter(n -> {
                        String first = n.startsWith("log_inprogress_")
                                ? n.substring("log_inprogress_".length())
                                : n.substring("log_".length(), n.indexOf('-'));
                        return Long.parseLong(first) <= index;
                    })
                    .count();
        }
    }
}
