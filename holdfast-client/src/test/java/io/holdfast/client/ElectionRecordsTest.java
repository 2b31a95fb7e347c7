package io.holdfast.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.AcquireOptions;
import io.holdfast.Election;
import io.holdfast.KeyEntry;
import io.holdfast.LockClient;
import io.holdfast.Watch;
import io.holdfast.WatchEvent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Issue 70, item 7: an election's record (the register of its name, {@code "<epoch>:<value>"},
 * written fenced by the leadership) is not a key of the keyspace: listings and key watches of a
 * prefix leave it out, a read by its name still finds it, and it is gone once its election has
 * nobody, neither leader nor candidate. On {@code mem:}, the server's table in process.
 */
class ElectionRecordsTest {
    private static final AtomicInteger STORES = new AtomicInteger();

    @Test
    void aLeadersRecordIsLeftOutOfListingsAndKeyWatchesAndGoesWithTheLastCandidate() throws Exception {
        String backend = "mem:election-records-" + STORES.incrementAndGet();
        try (LockClient leader = LockClient.open(backend);
                LockClient other = LockClient.open(backend)) {
            other.keys().put("svc/config", "x".getBytes(StandardCharsets.UTF_8));
            LinkedBlockingQueue<WatchEvent> seen = new LinkedBlockingQueue<>();
            try (Watch keys = other.keys().watch("svc/", seen::add)) {
                assertThat(seen.poll(5, TimeUnit.SECONDS).keys())
                        .extracting(KeyEntry::key)
                        .containsExactly("svc/config");
                Election election = leader.election("svc/indexer");
                var leading = election.campaign("10.0.0.7", AcquireOptions.waitUpTo(Duration.ofSeconds(5)));
                assertThat(election.leader().orElseThrow().value()).isEqualTo("10.0.0.7");
                assertThat(other.register("svc/indexer").get())
                        .as("read by its name")
                        .isPresent();
                assertThat(other.keys().list("svc/").entries())
                        .extracting(KeyEntry::key)
                        .as("a listing of the prefix")
                        .containsExactly("svc/config");
                leading.resign();
                assertThat(other.register("svc/indexer").get())
                        .as("gone: nobody leads or campaigns")
                        .isEmpty();
                other.keys().put("svc/after", new byte[0]);
                List<String> told =
                        seen.stream().map(e -> e.type() + " " + e.name()).toList();
                WatchEvent next = seen.poll(5, TimeUnit.SECONDS);
                assertThat(next).as("the watch of svc/ after %s", told).isNotNull();
                assertThat(next.type() + " " + next.name())
                        .as("the first change a watch of the prefix is told")
                        .isEqualTo("REGISTER_SET svc/after");
            }
        }
    }

    @Test
    void theRecordStaysWhileACandidateWaitsAndTheNextLeaderWritesItsOwn() throws Exception {
        String backend = "mem:election-records-" + STORES.incrementAndGet();
        try (LockClient first = LockClient.open(backend);
                LockClient second = LockClient.open(backend)) {
            var leading = first.election("jobs/leader").campaign("a", AcquireOptions.waitUpTo(Duration.ofSeconds(5)));
            var next = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return second.election("jobs/leader")
                            .campaign("b", AcquireOptions.waitUpTo(Duration.ofSeconds(10)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            });
            org.awaitility.Awaitility.await()
                    .atMost(Duration.ofSeconds(5))
                    .until(() -> first.admin()
                                    .describe("jobs/leader")
                                    .map(l -> l.waiters().size())
                                    .orElse(0)
                            == 1);
            leading.resign();
            var second_ = next.get(10, TimeUnit.SECONDS);
            assertThat(first.election("jobs/leader").leader().orElseThrow().value())
                    .isEqualTo("b");
            second_.resign();
            assertThat(first.register("jobs/leader").get()).isEmpty();
        }
    }
}
