package io.holdfast.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.DistributedBarrier;
import io.holdfast.DistributedLatch;
import io.holdfast.DoubleBarrier;
import io.holdfast.Lease;
import io.holdfast.LockTimeoutException;
import io.holdfast.RetryPolicy;
import io.holdfast.node.LocalNode;
import io.holdfast.node.LocalTransport;
import io.holdfast.testkit.FakeTicker;
import io.holdfast.testkit.ManualScheduler;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The recipes' timeouts in virtual time: a latch, a barrier, {@code awaitFree} and a double
 * barrier's entry on a client whose ticker and timers are the testkit's {@link FakeTicker} and
 * {@link ManualScheduler} end their wait when the test moves that clock past the timeout, and not
 * before; a minute of timeout takes milliseconds. The service is a real {@code mem:} node.
 */
class VirtualTimeRecipesTest {
    private static final Duration TIMEOUT = Duration.ofMinutes(1);
    private static final Duration REAL_TIME_BOUND = Duration.ofSeconds(10);

    private final FakeTicker ticker = new FakeTicker();
    private final ManualScheduler timers = new ManualScheduler(ticker);
    private final ExecutorService callers = Executors.newCachedThreadPool();
    private ClientRuntime client;

    @BeforeEach
    void open() {
        LocalNode node =
                LocalNode.named("recipes-" + UUID.randomUUID().toString().substring(0, 8));
        client = VirtualClients.open(
                new LocalTransport(node), timers, options -> options.retryPolicy(RetryPolicy.none()));
    }

    @AfterEach
    void close() {
        client.close();
        timers.shutdownNow();
        callers.shutdownNow();
    }

    @Test
    void aLatchWaitEndsWhenTheClientsClockPassesItsTimeout() {
        DistributedLatch latch = client.latch("latch");
        assertThat(latch.trySetCount(1)).isTrue();

        CompletableFuture<Boolean> waiting = armed(() -> latch.awaitAsync(TIMEOUT));

        assertTimesOutAtTheTimeout(waiting);
        assertThat(waiting.join()).as("the count never reached zero").isFalse();
    }

    @Test
    void awaitFreeEndsWhenTheClientsClockPassesItsTimeout() {
        try (Lease held = client.lock("held").tryAcquire().orElseThrow()) {
            CompletableFuture<Boolean> waiting = armed(() -> call(() -> client.awaitFree("held", TIMEOUT)));

            assertTimesOutAtTheTimeout(waiting);
            assertThat(waiting.join()).as("the lock stayed held").isFalse();
        }
    }

    @Test
    void aBarrierWaitEndsWhenTheClientsClockPassesItsTimeout() {
        DistributedBarrier barrier = client.barrier("barrier", 2);

        CompletableFuture<Boolean> waiting = armed(() -> call(() -> {
            try {
                barrier.await(TIMEOUT);
                return true;
            } catch (LockTimeoutException alone) {
                return false;
            }
        }));

        assertTimesOutAtTheTimeout(waiting);
        assertThat(waiting.join()).as("the second party never came").isFalse();
        assertThat(barrier.arrived()).as("the party that gave up withdrew").isZero();
    }

    @Test
    void aDoubleBarrierEntryEndsWhenTheClientsClockPassesItsTimeout() {
        DoubleBarrier barrier = client.doubleBarrier("double", 2);

        CompletableFuture<Boolean> waiting = armed(() -> call(() -> barrier.enter(TIMEOUT)));

        assertTimesOutAtTheTimeout(waiting);
        assertThat(waiting.join()).as("the second party never came").isFalse();
        assertThat(client.keys().list("double/").entries())
                .as("the party that gave up took its presence back")
                .isEmpty();
    }

    /** Starts a wait and returns once it has set its timer, due in a whole timeout, on the client's scheduler. */
    private CompletableFuture<Boolean> armed(java.util.function.Supplier<CompletableFuture<Boolean>> start) {
        CompletableFuture<Boolean> waiting = start.get();
        await("the wait sets its timeout on the client's scheduler")
                .atMost(REAL_TIME_BOUND)
                .until(() -> timers.lastIn().filter(in -> in.equals(TIMEOUT)).isPresent());
        return waiting;
    }

    /** Not over a moment before the timeout in the client's time; over soon after it, in real time. */
    private void assertTimesOutAtTheTimeout(CompletableFuture<Boolean> waiting) {
        timers.advance(TIMEOUT.minusMillis(1));
        assertThat(waiting).as("a millisecond before the timeout").isNotDone();
        timers.advance(Duration.ofMillis(1));
        await().atMost(REAL_TIME_BOUND).until(waiting::isDone);
    }

    private interface Blocking {
        boolean run() throws InterruptedException;
    }

    /** Runs a blocking wait on a thread of its own, so that the test's thread can move the clock. */
    private CompletableFuture<Boolean> call(Blocking wait) {
        return CompletableFuture.supplyAsync(
                () -> {
                    try {
                        return wait.run();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException(e);
                    }
                },
                callers);
    }
}
