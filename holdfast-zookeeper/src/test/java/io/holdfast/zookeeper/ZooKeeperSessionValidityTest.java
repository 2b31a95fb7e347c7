package io.holdfast.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.Watch;
import io.holdfast.WatchTarget;
import io.holdfast.testkit.ValidityWatch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A lease's validity follows the ZooKeeper session, as the server enforces it, not ZooKeeper's
 * client's idea of its connection: with the holder's packets no longer reaching the server while
 * the server's still reach the holder, the lease reads invalid before the server can expire the
 * session, and the next holder is granted only after that.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ZooKeeperSessionValidityTest {
    private static final Duration TTL = Duration.ofSeconds(2);

    private ZooKeeperTestServer server;
    private OneWayPause proxy;
    private final List<LockClient> clients = new ArrayList<>();
    private final ScheduledExecutorService noise = Executors.newSingleThreadScheduledExecutor();
    private final String prefix = "validity/" + UUID.randomUUID() + "/";

    @BeforeEach
    void start() throws Exception {
        server = ZooKeeperTestServer.start();
        proxy = OneWayPause.to(server.port());
    }

    @AfterEach
    void stop() throws Exception {
        noise.shutdownNow();
        clients.forEach(LockClient::close);
        proxy.close();
        server.close();
    }

    private LockClient open(String uri, Duration ttl) {
        LockClient c = LockClient.open(
                uri,
                ClientOptions.builder()
                        .sessionTtl(ttl)
                        .requestTimeout(Duration.ofSeconds(10))
                        .build());
        clients.add(c);
        return c;
    }

    @Test
    void aHolderCutOffOneWayReadsInvalidBeforeTheServerCanExpireItsSessionAndBeforeTheNextGrant() {
        String name = prefix + "held";
        String noisy = prefix + "noise";
        LockClient holder = open("zookeeper://127.0.0.1:" + proxy.port() + "/holdfast-test", TTL);
        LockClient waiter = open(server.uri(), Duration.ofSeconds(30));
        LockClient noiseMaker = open(server.uri(), Duration.ofSeconds(30));

        Lease lease = holder.lock(name).tryAcquire().orElseThrow();
        // The server keeps talking to the holder: a watch on a lock another client keeps taking.
        AtomicInteger heard = new AtomicInteger();
        Watch watch = holder.watch(WatchTarget.lock(noisy), event -> heard.incrementAndGet());
        noise.scheduleWithFixedDelay(
                () -> noiseMaker.lock(noisy).tryAcquire().ifPresent(Lease::release), 0, 100, TimeUnit.MILLISECONDS);
        await().atMost(Duration.ofSeconds(10)).until(() -> heard.get() >= 3);
        AtomicLong grantedAt = new AtomicLong();
        CompletableFuture<Lease> next = waiter.lock(name)
                .acquireAsync(Duration.ofSeconds(30))
                .whenComplete((l, e) -> grantedAt.set(System.nanoTime()));
        await().atMost(Duration.ofSeconds(5))
                .until(() -> waiter.admin()
                                .describe(name)
                                .map(i -> i.waiters().size())
                                .orElse(0)
                        == 1);

        proxy.pauseClientToServer();
        ValidityWatch.Seen seen = ValidityWatch.untilInvalid(lease, Duration.ofSeconds(20));

        // The server reads a packet after the proxy wrote it: it cannot expire the session earlier
        // than a timeout after the last byte the proxy delivered.
        long earliestExpiry = proxy.lastDeliveredNanos() + TTL.toNanos();
        assertThat(earliestExpiry - seen.lastValidNanos())
                .as("ns from the holder's lease last reading valid to the earliest moment the server could expire"
                        + " the session (positive: before)")
                .isPositive();
        Lease granted = next.join();
        assertThat(grantedAt.get() - seen.lastValidNanos())
                .as("ns from the holder's lease last reading valid to the next holder's grant (positive: after)")
                .isPositive();
        assertThat(granted.fencingToken()).isGreaterThan(lease.fencingToken());
        watch.close();
    }
}
