package io.holdfast.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockInfo;
import io.holdfast.RetryPolicy;
import io.holdfast.UnavailableException;
import io.holdfast.client.MemProvider;
import io.holdfast.model.Command;
import io.holdfast.node.LocalNode;
import io.holdfast.node.LocalTransport;
import io.holdfast.testkit.FakeTicker;
import io.holdfast.testkit.ManualScheduler;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a client no longer wants must not stay held by its live session. A release whose answer was
 * lost, and a wait given up on whose grant never reached the client, leave the service holding a
 * lock for a session that keeps sending heartbeats: nobody would ever free it. The client sends
 * such releases and withdrawals again in the background until the service answers. Each test
 * checks, from a second client, that the lock becomes free while the first client's session lives.
 * (Found by {@code holdfast verify --scenario zombie-leader}: a lock held to the end of the run by
 * a live session.)
 */
class GiveBackTest {
    private LocalNode node;
    private FaultyService flaky;
    private ClientRuntime client;
    private ClientRuntime other;
    /** The flaky client's clock and timers: its background re-sends run when the test moves time. */
    private final FakeTicker ticker = new FakeTicker();

    private final ManualScheduler timers = new ManualScheduler(ticker);

    @AfterEach
    void stop() {
        flaky.heal();
        client.close();
        other.close();
        timers.shutdownNow();
    }

    @BeforeEach
    void start() {
        node = LocalNode.named("give-back-" + UUID.randomUUID().toString().substring(0, 8));
        flaky = new FaultyService(new LocalTransport(node));
        ClientOptions options = ClientOptions.builder()
                .clientName("flaky")
                .sessionTtl(Duration.ofSeconds(10))
                .requestTimeout(Duration.ofMillis(200))
                .retryPolicy(RetryPolicy.none())
                .ticker(ticker)
                .scheduler(timers)
                .build();
        client = ClientRuntime.open("mem", flaky, options, MemProvider.CAPABILITIES);
        other = MemClients.named(node, "other");
    }

    @Test
    void aReleaseWhoseAnswerWasLostIsSentAgainUntilTheServiceAnswers() throws Exception {
        Lease lease = client.lock("jobs/a").acquire(Duration.ofSeconds(5));
        flaky.failCommands(c -> c instanceof Command.Release);

        assertThatThrownBy(lease::release).isInstanceOf(UnavailableException.class);
        assertThat(heldBy("jobs/a")).as("nothing reached the service yet").isEqualTo(1);

        flaky.heal();
        awaitFree("jobs/a");
        assertThat(client.isOpen()).as("the session lives on").isTrue();
    }

    @Test
    void aWaitGivenUpOnWhoseGrantWasLostIsGivenBack() throws Exception {
        Lease held = other.lock("jobs/b").acquire(Duration.ofSeconds(5));
        CompletableFuture<Lease> waiting = client.lock("jobs/b").acquireAsync(Duration.ofSeconds(30));
        await().atMost(5, TimeUnit.SECONDS).until(() -> waitersOf("jobs/b") == 1);

        flaky.dropEvents(); // the grant event will not reach the client
        held.release();
        await().atMost(5, TimeUnit.SECONDS).until(() -> heldBy("jobs/b") == 1);

        waiting.cancel(true); // the caller gives up, not knowing it was granted
        awaitFree("jobs/b");
    }

    @Test
    void aWaitWhoseWithdrawalWasNotAnsweredIsWithdrawnLater() throws Exception {
        Lease held = other.lock("jobs/c").acquire(Duration.ofSeconds(5));
        CompletableFuture<Lease> waiting = client.lock("jobs/c").acquireAsync(Duration.ofSeconds(30));
        await().atMost(5, TimeUnit.SECONDS).until(() -> waitersOf("jobs/c") == 1);

        flaky.dropEvents();
        flaky.failCommands(c -> c instanceof Command.CancelWait);
        waiting.cancel(true); // the withdrawal does not get through
        held.release(); // so the service grants the wait nobody wants any more
        await().atMost(5, TimeUnit.SECONDS).until(() -> heldBy("jobs/c") == 1);

        flaky.heal();
        awaitFree("jobs/c");
    }

    @Test
    void anAcquireWhoseAnswerWasLostIsWithdrawn() throws Exception {
        flaky.dropEvents();
        flaky.loseAnswers(c -> c instanceof Command.Acquire); // applied, but the answer is lost
        flaky.failCommands(c -> c instanceof Command.CancelWait || c instanceof Command.Release);
        CompletableFuture<Lease> acquiring = client.lock("jobs/d").acquireAsync(Duration.ofSeconds(1));
        timers.advance(Duration.ofMillis(1_200)); // the wait and a request timeout: nobody answered
        assertThatThrownBy(() -> acquiring.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(UnavailableException.class);
        assertThat(heldBy("jobs/d")).as("the service granted it").isEqualTo(1);

        flaky.heal();
        awaitFree("jobs/d");
    }

    /** Moves the flaky client's time on, so its re-sends run; the lock must be free by then. */
    private void awaitFree(String name) throws Exception {
        timers.advance(Duration.ofSeconds(10));
        assertThat(heldBy(name))
                .as("holders of %s while the session that gave it up lives", name)
                .isZero();
        assertThat(other.lock(name).tryAcquire()).isPresent();
    }

    private int heldBy(String name) throws Exception {
        Optional<LockInfo> info = node.describe(name);
        return info.map(i -> i.holders().size()).orElse(0);
    }

    private int waitersOf(String name) {
        return node.describe(name).map(i -> i.waiters().size()).orElse(0);
    }
}
