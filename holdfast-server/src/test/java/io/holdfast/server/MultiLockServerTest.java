package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.ClientOptions;
import io.holdfast.HolderInfo;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockInfo;
import io.holdfast.MultiLease;
import io.holdfast.core.Vocabulary;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The multi-lock on the server is one command ({@code AcquireAll}): while it waits it holds none of
 * its names but keeps a place in each of their queues, and it is granted all at once. A cluster
 * whose members do not all speak protocol version 2 refuses it with a typed error instead of
 * logging a command some replica cannot apply.
 */
class MultiLockServerTest {
    private static final ClientOptions OPTIONS =
            ClientOptions.builder().sessionTtl(Duration.ofSeconds(15)).build();

    @Test
    void aWaitingMultiLockHoldsNothingKeepsItsPlacesAndIsGrantedWhole() throws Exception {
        try (TestCluster cluster = new TestCluster(1)) {
            cluster.awaitLeader(Duration.ofSeconds(20));
            // At once: the leader counts itself at the version it runs, without waiting for its own
            // report to be logged (else the client would take the names one by one meanwhile).
            LockClient holder = cluster.open(OPTIONS);
            LockClient waiter = cluster.open(OPTIONS);
            Lease b = holder.lock("ml/b").acquire(Duration.ofSeconds(5));
            CompletableFuture<MultiLease> pending = waiter.multiLock(List.of("ml/b", "ml/a"))
                    .acquireAsync(io.holdfast.AcquireOptions.waitUpTo(Duration.ofSeconds(30)));
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> holder.admin()
                                    .describe("ml/a")
                                    .map(i -> i.waiters().size())
                                    .orElse(0)
                            == 1);
            LockInfo a = holder.admin().describe("ml/a").orElseThrow();
            assertThat(a.holders())
                    .as("nothing is held while the multi-lock waits")
                    .isEmpty();
            assertThat(holder.lock("ml/a").tryAcquire())
                    .as("a later request waits behind the multi-lock's place")
                    .isEmpty();
            assertThat(holder.admin().describe("ml/b").orElseThrow().waiters()).hasSize(1);

            b.release();
            MultiLease lease = pending.get(10, TimeUnit.SECONDS);
            assertThat(lease.fencingTokens()).containsOnlyKeys("ml/a", "ml/b");
            for (String name : List.of("ml/a", "ml/b")) {
                assertThat(holder.admin().describe(name).orElseThrow().holders())
                        .extracting(HolderInfo::fencingToken)
                        .containsExactly(lease.fencingTokens().get(name));
            }
            assertThat(lease.fencingTokens().get("ml/b") - lease.fencingTokens().get("ml/a"))
                    .as("granted in one step: consecutive tokens")
                    .isEqualTo(1);
            lease.release();
            assertThat(holder.admin().describe("ml/a")).isEmpty();
        }
    }

    /**
     * A member that does not speak protocol version 2 (here the only one; in a cluster, one not
     * upgraded yet, or one whose report is not in the log yet) makes the leader refuse the one-step
     * command; the client then takes the names one by one, in their sorted order.
     */
    @Test
    void whereTheClusterDoesNotTakeTheCommandTheNamesAreTakenOneByOne() throws Exception {
        try (TestCluster cluster = new TestCluster(1, 0)) {
            cluster.start(0, Vocabulary.CURRENT.atVersion(1));
            cluster.awaitLeader(Duration.ofSeconds(20));
            LockClient holder = cluster.open(OPTIONS);
            LockClient waiter = cluster.open(OPTIONS);
            Lease b = holder.lock("ml/b").acquire(Duration.ofSeconds(5));
            CompletableFuture<MultiLease> pending = waiter.multiLock(List.of("ml/a", "ml/b"))
                    .acquireAsync(io.holdfast.AcquireOptions.waitUpTo(Duration.ofSeconds(30)));
            await("ml/a is taken first, as one name")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> holder.admin()
                                    .describe("ml/a")
                                    .map(i -> i.holders().size())
                                    .orElse(0)
                            == 1);
            b.release();
            MultiLease lease = pending.get(10, TimeUnit.SECONDS);
            assertThat(lease.fencingTokens()).containsOnlyKeys("ml/a", "ml/b");
            lease.release();
        }
    }
}
