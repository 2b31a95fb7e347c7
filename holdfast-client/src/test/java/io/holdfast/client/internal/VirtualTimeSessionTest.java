package io.holdfast.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.AcquireOptions;
import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockLostException;
import io.holdfast.LockTimeoutException;
import io.holdfast.RetryPolicy;
import io.holdfast.UnavailableException;
import io.holdfast.client.MemProvider;
import io.holdfast.model.Command;
import io.holdfast.model.LockService;
import io.holdfast.model.Reply;
import io.holdfast.model.WaitBackstop;
import io.holdfast.node.LocalNode;
import io.holdfast.node.LocalTransport;
import io.holdfast.testkit.FakeTicker;
import io.holdfast.testkit.ManualScheduler;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Heartbeats, session expiry, lease renewals and a queued wait's backstop ({@link
 * io.holdfast.model.WaitBackstop}) of the client, in virtual time: the client's
 * ticker and timers are the testkit's {@link FakeTicker} and {@link ManualScheduler}, so each test
 * moves a TTL of time in milliseconds and nothing races a timer thread. The service is a real
 * {@code mem:} node; only the client's own clock is virtual, so the node (whose TTLs run in real
 * time) never expires anything during a test.
 */
class VirtualTimeSessionTest {
    private static final Duration TTL = Duration.ofSeconds(10);

    private final FakeTicker ticker = new FakeTicker();
    private final ManualScheduler timers = new ManualScheduler(ticker);
    private LocalNode node;
    private Counting transport;
    private ClientRuntime client;

    @BeforeEach
    void open() {
        node = LocalNode.named("virtual-" + UUID.randomUUID().toString().substring(0, 8));
        transport = new Counting(new LocalTransport(node));
        // One session's life: a client that ends with it (the next one's is SessionRenewalTest's).
        client = VirtualClients.open(
                transport,
                timers,
                options ->
                        options.sessionTtl(TTL).retryPolicy(RetryPolicy.none()).renewSessions(false));
    }

    @AfterEach
    void close() {
        transport.refuseHeartbeats = false;
        client.close();
        timers.shutdownNow();
    }

    @Test
    void heartbeatsGoEveryQuarterOfTheTtlAndKeepTheSession() {
        assertThat(transport.heartbeats).hasValue(0);
        timers.advance(TTL.dividedBy(4).minusMillis(1));
        assertThat(transport.heartbeats).as("before a quarter of the TTL").hasValue(0);
        timers.advance(Duration.ofMillis(1));
        assertThat(transport.heartbeats).as("at a quarter of the TTL").hasValue(1);
        timers.advance(TTL.multipliedBy(10));
        assertThat(transport.heartbeats).as("ten TTLs later").hasValue(41);
        assertThat(client.isOpen()).isTrue();
    }

    @Test
    void noHeartbeatAcknowledgedForAWholeTtlEndsTheSessionAndItsLeasesOnce() throws Exception {
        Lease lease = client.lock("jobs/a").acquire(Duration.ZERO);
        List<LockLostException> told = new CopyOnWriteArrayList<>();
        lease.onLost(told::add);
        transport.refuseHeartbeats = true;

        timers.advance(TTL.minusMillis(1));
        assertThat(lease.isValid())
                .as("a millisecond before the TTL has passed")
                .isTrue();
        assertThat(client.isOpen()).isTrue();
        assertThat(transport.heartbeats.get()).as("beats tried while refused").isGreaterThan(3);

        timers.advance(Duration.ofMillis(100));
        assertThat(client.isOpen())
                .as("a whole TTL without an acknowledged heartbeat")
                .isFalse();
        assertThat(lease.isValid()).isFalse();
        await().atMost(5, TimeUnit.SECONDS).until(() -> !told.isEmpty()); // told on a callback thread
        assertThat(told.get(0)).hasMessageContaining("no heartbeat was acknowledged for a whole TTL");
        timers.advance(TTL);
        assertThat(told).as("told once").hasSize(1);
    }

    @Test
    void anAcknowledgedHeartbeatMovesTheSessionsValidityOn() throws Exception {
        Lease lease = client.lock("jobs/b").acquire(Duration.ZERO);
        timers.advance(TTL.multipliedBy(3)); // beats acknowledged all along, the last one sent just now
        transport.refuseHeartbeats = true;
        timers.advance(TTL.minusMillis(1));
        assertThat(lease.isValid())
                .as("valid until a TTL after the sending of the last acknowledged beat")
                .isTrue();
        timers.advance(Duration.ofMillis(1));
        assertThat(lease.isValid()).isFalse();
        assertThat(client.isOpen()).isFalse();
    }

    @Test
    void aLeaseWithATimeoutIsRenewedEveryThirdOfItWhileHeld() throws Exception {
        Lease lease = client.lock("jobs/c")
                .acquire(AcquireOptions.waitUpTo(Duration.ZERO).withLeaseTimeout(Duration.ofSeconds(3)));
        timers.advance(Duration.ofMillis(999));
        assertThat(transport.renewals).hasValue(0);
        timers.advance(Duration.ofMillis(1));
        assertThat(transport.renewals).hasValue(1);
        timers.advance(Duration.ofSeconds(9));
        assertThat(transport.renewals).hasValue(10);
        assertThat(lease.isValid()).isTrue();
        lease.release();
        timers.advance(Duration.ofSeconds(10));
        assertThat(transport.renewals).as("none after the release").hasValue(10);
    }

    /**
     * A queued acquire that hears no event asks the table again: the first ask at the wait plus the
     * TTL, then a second apart while the table still has it queued, then it gives up with a
     * timeout. The node's clock is real, so it does not end the minute-long wait during the test:
     * every ask is answered "queued", as when the cluster cannot decide.
     */
    @Test
    void aQueuedAcquireThatHearsNothingAsksAtTheWaitPlusTheTtlThenASecondApartThenTimesOut() throws Exception {
        Duration wait = Duration.ofSeconds(60);
        try (ClientRuntime holder = ClientRuntime.open(
                "mem", new LocalTransport(node), ClientOptions.defaults(), MemProvider.CAPABILITIES)) {
            Lease held = holder.lock("jobs/held").acquire(Duration.ZERO);
            CompletableFuture<Lease> waiting = client.lock("jobs/held").acquireAsync(wait);
            await().atMost(5, TimeUnit.SECONDS).until(() -> transport.acquires.get() == 1);

            timers.advance(wait.plus(TTL).minusMillis(1));
            assertThat(transport.acquires).as("before the wait plus the TTL").hasValue(1);
            timers.advance(Duration.ofMillis(1));
            await().atMost(5, TimeUnit.SECONDS).until(() -> transport.acquires.get() == 2);
            for (int more = 1; more <= WaitBackstop.MORE_ASKS; more++) {
                assertThat(waiting)
                        .as("still waiting after ask %d, answered queued", more)
                        .isNotDone();
                timers.advance(Duration.ofMillis(WaitBackstop.ASK_INTERVAL_MILLIS));
                int asks = 2 + more;
                await().atMost(5, TimeUnit.SECONDS).until(() -> transport.acquires.get() == asks);
            }

            await().atMost(5, TimeUnit.SECONDS).until(waiting::isDone);
            assertThat(waiting)
                    .failsWithin(Duration.ZERO)
                    .withThrowableOfType(ExecutionException.class)
                    .withCauseInstanceOf(LockTimeoutException.class);
            timers.advance(TTL);
            assertThat(transport.acquires).as("no ask after giving up").hasValue(2 + WaitBackstop.MORE_ASKS);
            assertThat(held.isValid()).isTrue();
        }
    }

    /** Counts heartbeats, renewals and acquires; refuses heartbeats when told to. */
    private static final class Counting extends ForwardingLockService {
        final AtomicInteger heartbeats = new AtomicInteger();
        final AtomicInteger renewals = new AtomicInteger();
        final AtomicInteger acquires = new AtomicInteger();
        volatile boolean refuseHeartbeats;

        Counting(LockService delegate) {
            super(delegate);
        }

        @Override
        public CompletableFuture<Reply> keepAlive(String sessionId, Duration timeout) {
            heartbeats.incrementAndGet();
            return refuseHeartbeats
                    ? CompletableFuture.failedFuture(new UnavailableException("cut off (test)"))
                    : delegate.keepAlive(sessionId, timeout);
        }

        @Override
        public CompletableFuture<Reply> submit(Command command) {
            if (command instanceof Command.Renew) {
                renewals.incrementAndGet();
            } else if (command instanceof Command.Acquire) {
                acquires.incrementAndGet();
            }
            return delegate.submit(command);
        }
    }
}
