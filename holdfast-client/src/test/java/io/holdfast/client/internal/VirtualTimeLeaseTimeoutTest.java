package io.holdfast.client.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.AcquireOptions;
import io.holdfast.Lease;
import io.holdfast.internal.CrashSimulation;
import io.holdfast.node.LocalNode;
import io.holdfast.node.LocalTransport;
import io.holdfast.testkit.FakeTicker;
import io.holdfast.testkit.ManualScheduler;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Lease timeouts and the watchdog that renews them, in virtual time on both sides: a {@code mem:}
 * node whose clock and timers are the test's ({@link LocalNode#inVirtualTime}) and a client on the
 * same {@link FakeTicker} and {@link ManualScheduler}. A live client's lease stays current at the
 * node through many timeouts; a crashed one's lapses after one, which shows that the node's timers
 * do run on the virtual clock (so the first test could fail).
 */
class VirtualTimeLeaseTimeoutTest {
    private static final Duration LEASE_TIMEOUT = Duration.ofMillis(300);
    private static final Duration STEP = Duration.ofMillis(10);

    private final FakeTicker ticker = new FakeTicker();
    private final ManualScheduler timers = new ManualScheduler(ticker);
    private final LocalNode node = LocalNode.inVirtualTime(
            "virtual-lease-" + UUID.randomUUID().toString().substring(0, 8), ticker, timers);
    private final ClientRuntime client = VirtualClients.open(
            new LocalTransport(node), timers, options -> options.sessionTtl(Duration.ofSeconds(10)));

    @AfterEach
    void close() {
        client.close();
        timers.shutdownNow();
    }

    @Test
    void theWatchdogKeepsALiveClientsLeaseCurrentAtTheNodeThroughFiveTimeouts() throws InterruptedException {
        Lease lease = client.lock("w/1")
                .acquire(AcquireOptions.waitUpTo(Duration.ofSeconds(1)).withLeaseTimeout(LEASE_TIMEOUT));

        for (int i = 0; i < 150; i++) { // 1.5 s of virtual time
            timers.advance(STEP);
            assertThat(node.isCurrentHolder("w/1", lease.fencingToken()))
                    .as("current at the node after %d ms", (i + 1) * STEP.toMillis())
                    .isTrue();
        }
        assertThat(lease.isValid()).isTrue();
        lease.release();
        assertThat(node.isCurrentHolder("w/1", lease.fencingToken())).isFalse();
    }

    @Test
    void aCrashedClientsLeaseLapsesAtTheNodeAfterItsTimeout() throws InterruptedException {
        Lease lease = client.lock("w/2")
                .acquire(AcquireOptions.waitUpTo(Duration.ofSeconds(1)).withLeaseTimeout(LEASE_TIMEOUT));
        CrashSimulation.crash(client);

        timers.advance(LEASE_TIMEOUT.minus(STEP));
        assertThat(node.isCurrentHolder("w/2", lease.fencingToken()))
                .as("before the timeout")
                .isTrue();
        timers.advance(STEP.multipliedBy(2));
        assertThat(node.isCurrentHolder("w/2", lease.fencingToken()))
                .as("after the timeout")
                .isFalse();
    }
}
