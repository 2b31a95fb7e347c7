package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A follower that was down while the leader snapshotted and purged its log comes back and ends with
 * the same table as both other replicas, at the same applied index.
 *
 * <p>Complements {@link SnapshotInstallTest} with tighter checks: that the leader's log really no
 * longer holds the first entry the stopped follower lacks (so catching up is possible only from an
 * InstallSnapshot), that the follower then holds a snapshot from past the index it stopped at, and
 * that {@link HoldfastServer#tableDigest()} agrees on all three replicas when they show the same
 * index. Without {@link LockStateMachine#pause()} moving the LifeCycle to PAUSED, Ratis 3.3.0's
 * {@code StateMachineUpdater.reload()} fails its PAUSED check and the follower's Raft division
 * closes: it never catches up.
 */
class SnapshotCatchUpReplicasTest {
    private static final String SNAPSHOT_EVERY = "holdfast.raft.snapshotEvery";
    private static final ClientOptions OPTIONS =
            ClientOptions.builder().sessionTtl(Duration.ofSeconds(10)).build();
    private static final Duration WAIT = Duration.ofSeconds(5);

    @BeforeEach
    void snapshotEvery50Entries() {
        // Read when a node starts: snapshots every 50 entries, 8 KB log segments, purge gap 1.
        System.setProperty(SNAPSHOT_EVERY, "50");
    }

    @AfterEach
    void defaultSnapshots() {
        System.clearProperty(SNAPSHOT_EVERY);
    }

    @Test
    void aFollowerBehindThePurgedLogEndsWithTheSameTableAsEveryReplica() throws Exception {
        try (TestCluster cluster = new TestCluster(3)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            int follower = (leader + 1) % 3;
            int other = (leader + 2) % 3;
            LockClient client = cluster.open(OPTIONS);
            List<Lease> kept = new ArrayList<>();
            kept.add(client.lock("cu/kept/0").acquire(WAIT));

            // The follower has everything so far, then goes down with its data directory.
            await("the follower has applied what the leader has")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> cluster.node(follower).lastAppliedIndex()
                            == cluster.node(leader).lastAppliedIndex());
            long followerLast = cluster.node(follower).lastAppliedIndex();
            cluster.stop(follower);

            // Some 400+ entries: many 8 KB segments roll and the leader snapshots every 50 entries.
            for (int i = 0; i < 200; i++) {
                client.lock("cu/" + (i % 11)).acquire(WAIT).release();
                if (i % 60 == 0) {
                    kept.add(client.lock("cu/kept/" + (i / 60 + 1)).acquire(WAIT));
                    client.register("cu/reg/" + i).compareAndSet(0, new byte[] {(byte) i, 1, 2});
                }
            }
            HoldfastServer lead = cluster.node(leader);
            long snapshot = lead.takeSnapshot();
            assertThat(snapshot).isGreaterThan(followerLast + 200);
            client.register("cu/reg/last").compareAndSet(0, new byte[] {9});
            lead.takeSnapshot();

            // The leader's log no longer holds the first entry the follower lacks: only a snapshot
            // can bring it up to date.
            await("the leader purged the entry after the follower's last")
                    .atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(firstLogIndex(lead)).isGreaterThan(followerLast + 1));

            cluster.start(follower);
            await("the restarted follower reaches the leader's applied index")
                    .atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(50))
                    .untilAsserted(() -> assertThat(cluster.node(follower).lastAppliedIndex())
                            .isGreaterThanOrEqualTo(lead.lastAppliedIndex()));

            // It got there through a snapshot sent by the leader: it holds one from past the index
            // it stopped at, which it could not have taken itself (it never had those entries).
            assertThat(latestSnapshotIndex(cluster.node(follower)))
                    .as("the follower's snapshot directory")
                    .isGreaterThan(followerLast + 1);

            // Same index, same table, on all three replicas (compared only when the indexes match:
            // session keep-alives may still be appending).
            AtomicReference<List<String>> same = new AtomicReference<>();
            await("all three replicas at the same applied index")
                    .atMost(Duration.ofSeconds(10))
                    .pollInterval(Duration.ofMillis(20))
                    .until(() -> {
                        List<String> digests = List.of(
                                cluster.node(leader).tableDigest(),
                                cluster.node(follower).tableDigest(),
                                cluster.node(other).tableDigest());
                        if (digests.stream()
                                        .map(d -> d.substring(0, d.indexOf(':')))
                                        .distinct()
                                        .count()
                                == 1) {
                            same.set(digests);
                            return true;
                        }
                        return false;
                    });
            List<String> digests = same.get();
            assertThat(Long.parseLong(digests.get(0).substring(0, digests.get(0).indexOf(':'))))
                    .isGreaterThan(snapshot);
            assertThat(digests).as("leader, restarted follower, other follower").containsOnly(digests.get(0));

            // And the service works on: every lock taken before and during the outage is still held.
            for (Lease l : kept) {
                assertThat(client.admin().isCurrentHolder(l.name(), l.fencingToken()))
                        .as(l.name())
                        .isTrue();
            }
        }
    }

    /** The first index in the node's Raft log on disk (segment files {@code log_<first>-<last>}), or -1. */
    private static long firstLogIndex(HoldfastServer node) throws Exception {
        try (Stream<Path> files = Files.walk(node.config().dataDir().resolve("raft"))) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith("log_"))
                    .mapToLong(n -> n.startsWith("log_inprogress_")
                            ? Long.parseLong(n.substring("log_inprogress_".length()))
                            : Long.parseLong(n.substring("log_".length(), n.indexOf('-'))))
                    .min()
                    .orElse(-1);
        }
    }

    /** The index of the newest snapshot file ({@code snapshot.<term>_<index>}) of the node, or -1. */
    private static long latestSnapshotIndex(HoldfastServer node) throws Exception {
        try (Stream<Path> files = Files.walk(node.config().dataDir().resolve("raft"))) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> n.matches("snapshot\\.\\d+_\\d+"))
                    .mapToLong(n -> Long.parseLong(n.substring(n.indexOf('_') + 1)))
                    .max()
                    .orElse(-1);
        }
    }
}
