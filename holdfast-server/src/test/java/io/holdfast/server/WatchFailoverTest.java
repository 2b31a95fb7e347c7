package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.Watch;
import io.holdfast.WatchEvent;
import io.holdfast.WatchEvent.Type;
import io.holdfast.WatchListener;
import io.holdfast.WatchTarget;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * A watch outlives the loss of the leader it was reading from: it asks the next member from its
 * last position and is told every change, in order, none twice, without a new STATE (every member
 * applied the same entries, so the new one has them all).
 */
class WatchFailoverTest {
    private static final ClientOptions OPTIONS =
            ClientOptions.builder().sessionTtl(Duration.ofSeconds(10)).build();

    @Test
    void aWatchMissesNoChangeWhenTheLeaderItReadsFromDies() throws Exception {
        try (TestCluster cluster = new TestCluster(3)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            LockClient watcher = cluster.open(OPTIONS);
            LockClient worker = cluster.open(OPTIONS);
            List<WatchEvent> seen = new CopyOnWriteArrayList<>();
            try (Watch watch = watcher.watch(WatchTarget.prefix("wf/"), (WatchListener) seen::add)) {
                await().atMost(Duration.ofSeconds(10)).until(() -> !seen.isEmpty());
                List<Long> tokens = new ArrayList<>();
                for (int i = 0; i < 10; i++) {
                    Lease l = worker.lock("wf/" + (i % 3)).acquire(Duration.ofSeconds(5));
                    tokens.add(l.fencingToken());
                    l.release();
                }
                cluster.stop(leader);
                assertThat(cluster.awaitLeader(Duration.ofSeconds(30))).isNotEqualTo(leader);
                for (int i = 10; i < 20; i++) {
                    Lease l = worker.lock("wf/" + (i % 3)).acquire(Duration.ofSeconds(30));
                    tokens.add(l.fencingToken());
                    l.release();
                }
                await().atMost(Duration.ofSeconds(30))
                        .alias("every change told after the failover")
                        .until(() -> seen.size() >= 1 + 2 * tokens.size());
                Thread.sleep(300); // nothing more may come
                assertThat(seen.get(0).type()).isEqualTo(Type.STATE);
                List<WatchEvent> changes = seen.subList(1, seen.size());
                assertThat(changes)
                        .as("no second STATE: the new leader had every change")
                        .noneMatch(e -> e.type() == Type.STATE);
                assertThat(changes).hasSize(2 * tokens.size());
                for (int i = 0; i < tokens.size(); i++) {
                    WatchEvent acquired = changes.get(2 * i);
                    WatchEvent released = changes.get(2 * i + 1);
                    assertThat(acquired.type())
                            .as("change %d: %s", 2 * i, changes)
                            .isEqualTo(Type.ACQUIRED);
                    assertThat(acquired.fencingToken()).isEqualTo(tokens.get(i));
                    assertThat(acquired.name()).isEqualTo("wf/" + (i % 3));
                    assertThat(released.type()).isEqualTo(Type.RELEASED);
                    assertThat(released.fencingToken()).isEqualTo(tokens.get(i));
                }
            }
        }
    }
}
