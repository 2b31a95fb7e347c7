package io.holdfast.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.testkit.ValidityWatch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A lease's validity follows the client's etcd lease, as etcd enforces it: with etcd paused right
 * after the holder's session lease was granted, the holder's lease reads invalid before etcd could
 * expire that lease (a TTL after it received the grant), and a waiter is granted only after that.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class EtcdSessionValidityTest {
    /** Whole seconds, so that the TTL etcd grants is the one asked for. */
    private static final Duration TTL = Duration.ofSeconds(3);

    private EtcdServer etcd;
    private final List<LockClient> clients = new ArrayList<>();
    private final String name = "validity/" + UUID.randomUUID();

    @BeforeEach
    void start() {
        etcd = EtcdServer.startOrSkip();
    }

    @AfterEach
    void stop() {
        if (etcd == null) {
            return;
        }
        etcd.resume();
        clients.forEach(LockClient::close);
        etcd.stop();
    }

    private LockClient open(Duration ttl) {
        LockClient c = LockClient.open(
                etcd.uri(),
                ClientOptions.builder()
                        .sessionTtl(ttl)
                        .requestTimeout(Duration.ofSeconds(10))
                        .build());
        clients.add(c);
        return c;
    }

    @Test
    void aHolderReadsInvalidBeforeAPausedEtcdCouldExpireItsLeaseAndBeforeTheNextGrant() {
        open(Duration.ofSeconds(10)).close(); // loads the driver's classes, so that opening the holder is quick
        LockClient waiter = open(Duration.ofSeconds(60));

        long openedFrom = System.nanoTime();
        LockClient holder = open(TTL);
        Lease lease = holder.lock(name).tryAcquire().orElseThrow();
        AtomicLong grantedAt = new AtomicLong();
        CompletableFuture<Lease> next = waiter.lock(name)
                .acquireAsync(Duration.ofSeconds(60))
                .whenComplete((l, e) -> grantedAt.set(System.nanoTime()));
        await().atMost(Duration.ofSeconds(5))
                .until(() -> waiter.admin()
                                .describe(name)
                                .map(i -> i.waiters().size())
                                .orElse(0)
                        == 1);

        etcd.pause();
        // The holder sends its first keep-alive a third of the TTL after its lease's grant: paused
        // before then, etcd has heard nothing from it since the grant, which it received after
        // openedFrom, so it cannot expire the lease before openedFrom + TTL.
        assertThat(Duration.ofNanos(System.nanoTime() - openedFrom))
                .as("time from opening the holder to pausing etcd (must be under a third of the TTL)")
                .isLessThan(TTL.dividedBy(3));
        long earliestExpiry = openedFrom + TTL.toNanos();

        ValidityWatch.Seen seen = ValidityWatch.untilInvalid(lease, Duration.ofSeconds(20));
        assertThat(earliestExpiry - seen.lastValidNanos())
                .as("ns from the holder's lease last reading valid to the earliest moment etcd could expire"
                        + " its lease (positive: before)")
                .isPositive();

        await().atMost(TTL.multipliedBy(2)).until(() -> System.nanoTime() - earliestExpiry >= 0);
        etcd.resume();
        Lease granted = next.orTimeout(30, TimeUnit.SECONDS).join();
        assertThat(grantedAt.get() - seen.lastValidNanos())
                .as("ns from the holder's lease last reading valid to the waiter's grant (positive: after)")
                .isPositive();
        assertThat(granted.fencingToken()).isGreaterThan(lease.fencingToken());
    }
}
