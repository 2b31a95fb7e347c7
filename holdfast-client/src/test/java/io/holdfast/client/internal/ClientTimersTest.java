package io.holdfast.client.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.AcquireOptions;
import io.holdfast.DistributedLock;
import io.holdfast.Lease;
import io.holdfast.node.LocalNode;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every acquire sets a timer ("no answer within the wait") and every queued wait a backstop ("ask
 * for the outcome if no event comes"); both last as long as the wait, which may be minutes. They
 * must go when the answer comes, or a busy client keeps hundreds of thousands of dead timers
 * queued (memory, and a slower timer queue for every request). Without the cancellation each test
 * below ends with more than a hundred timers queued.
 */
class ClientTimersTest {
    private static final AcquireOptions LONG_WAIT = AcquireOptions.waitUpTo(Duration.ofMinutes(10));

    private LocalNode node;
    private ClientRuntime client;
    private ClientRuntime other;

    @BeforeEach
    void start() {
        node = LocalNode.named("timers-" + UUID.randomUUID().toString().substring(0, 8));
        client = MemClients.named(node, "timers");
        other = MemClients.named(node, "other");
    }

    @AfterEach
    void stop() {
        client.close();
        other.close();
    }

    @Test
    void answeredAcquiresLeaveNoTimerBehind() throws Exception {
        DistributedLock lock = client.lock("timers/granted");
        for (int i = 0; i < 200; i++) {
            try (Lease lease = lock.acquire(LONG_WAIT)) {
                assertThat(lease.isValid()).isTrue();
            }
        }
        assertThat(client.pendingTimers()).as("timers queued after 200 pairs").isLessThan(5);
    }

    @Test
    void grantedWaitsLeaveNoBackstopBehind() throws Exception {
        DistributedLock mine = client.lock("timers/queued");
        DistributedLock theirs = other.lock("timers/queued");
        for (int i = 0; i < 150; i++) {
            Lease held = theirs.acquire(LONG_WAIT);
            CompletableFuture<Lease> queued = mine.acquireAsync(LONG_WAIT);
            assertThat(queued).isNotDone();
            held.release();
            queued.get(10, TimeUnit.SECONDS).release();
        }
        assertThat(client.pendingTimers())
                .as("timers queued after 150 granted waits")
                .isLessThan(5);
    }
}
