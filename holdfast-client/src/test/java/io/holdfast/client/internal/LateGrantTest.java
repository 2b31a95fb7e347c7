package io.holdfast.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.AcquireOptions;
import io.holdfast.Lease;
import io.holdfast.LockLostException;
import io.holdfast.model.Command;
import io.holdfast.node.LocalNode;
import io.holdfast.node.LocalTransport;
import io.holdfast.testkit.FakeTicker;
import io.holdfast.testkit.ManualScheduler;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A grant with a lease timeout that reaches its client after the timeout ran out must not be
 * handed out as a valid lease, nor one without a lease timeout that was revoked on its way. Found by the soak ({@code holdfast verify}, scenario partition,
 * seed 2000690609): a queued acquire with a lease timeout of about a second was granted while its
 * client was cut off; the grant timed out and the lock went to another client; after the heal the
 * client's retried acquire got the table's remembered answer ("granted, token 7") and its lease
 * said it was valid while the other client held token 17, until the renewal sent to catch up was
 * refused.
 *
 * <p>Here in virtual time, on a {@code mem:} node with the real lock table: the late client's
 * events are dropped and its answers lost while the grant is made and times out, then the link
 * heals and its retry learns of the grant.
 */
class LateGrantTest {
    private static final Duration LEASE_TIMEOUT = Duration.ofMillis(300);
    private static final Duration STEP = Duration.ofMillis(10);

    private final FakeTicker ticker = new FakeTicker();
    private final ManualScheduler timers = new ManualScheduler(ticker);
    private final LocalNode node =
            LocalNode.inVirtualTime("late-grant-" + UUID.randomUUID().toString().substring(0, 8), ticker, timers);
    private final FaultyService link = new FaultyService(new LocalTransport(node));
    private final ClientRuntime late =
            VirtualClients.open(link, timers, o -> o.clientName("late").sessionTtl(Duration.ofSeconds(10)));
    private final ClientRuntime other = VirtualClients.open(
            new LocalTransport(node), timers, o -> o.clientName("other").sessionTtl(Duration.ofSeconds(10)));

    @AfterEach
    void close() {
        link.heal();
        late.close();
        other.close();
        timers.shutdownNow();
    }

    @Test
    void aGrantThatTimedOutBeforeItReachedItsClientIsNeverHandedOutAsValid() throws Exception {
        Lease first = other.lock("jobs/late").acquire(Duration.ofSeconds(1));
        link.dropEvents();
        link.loseAnswers(c -> c instanceof Command.Acquire); // queued at the node; the client hears nothing
        CompletableFuture<Lease> waiting = late.lock("jobs/late")
                .acquireAsync(AcquireOptions.waitUpTo(Duration.ofSeconds(5)).withLeaseTimeout(LEASE_TIMEOUT));
        AtomicReference<String> handedOut = new AtomicReference<>();
        waiting.thenAccept(lease -> handedOut.set("token " + lease.fencingToken() + ", valid " + lease.isValid()));
        timers.advance(STEP);
        assertThat(node.describe("jobs/late").orElseThrow().waiters()).hasSize(1);

        first.release(); // granted to the late client, which does not hear of it
        long lateToken =
                node.describe("jobs/late").orElseThrow().holders().get(0).fencingToken();
        timers.advance(LEASE_TIMEOUT.plus(STEP)); // nobody renews it: the node ends the hold
        assertThat(node.isCurrentHolder("jobs/late", lateToken)).isFalse();
        Lease second = other.lock("jobs/late").acquire(Duration.ofSeconds(1));

        link.heal(); // the late client's next retry hears the remembered answer: granted
        // Virtual time drives the retry and the renewal; the outcome reaches the caller on a
        // callback thread of the client, in real time (acquireAsync).
        await("the late client's acquire has an outcome")
                .atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(1))
                .until(() -> {
                    timers.advance(STEP);
                    return waiting.isDone();
                });
        assertThat(handedOut.get())
                .as("the lease as the caller got it, while token %d holds the lock", second.fencingToken())
                .isNull();
        assertThat(waiting)
                .failsWithin(Duration.ZERO)
                .withThrowableOfType(ExecutionException.class)
                .havingCause()
                .isInstanceOf(LockLostException.class)
                .withMessageContaining("token " + lateToken);
        assertThat(node.isCurrentHolder("jobs/late", second.fencingToken())).isTrue();
        second.release();
    }

    /**
     * The same without a lease timeout, where no renewal would ever find the loss: the grant is
     * revoked while the late client's events are dropped and its acquire's answers lost; its
     * retry then hears the table's memory of the grant, which it must check before handing it
     * out (issue 69, item 8).
     */
    @Test
    void aSessionBoundGrantRevokedBeforeItReachedItsClientIsNeverHandedOutAsValid() throws Exception {
        Lease first = other.lock("jobs/revoked").acquire(Duration.ofSeconds(1));
        link.dropEvents();
        link.loseAnswers(c -> c instanceof Command.Acquire);
        CompletableFuture<Lease> waiting = late.lock("jobs/revoked").acquireAsync(Duration.ofSeconds(5));
        // What the caller got, as it got it (on the client's callback thread).
        CompletableFuture<String> handedOut =
                waiting.thenApply(lease -> "token " + lease.fencingToken() + ", valid " + lease.isValid());
        timers.advance(STEP);
        assertThat(node.describe("jobs/revoked").orElseThrow().waiters()).hasSize(1);

        first.release(); // granted to the late client, which does not hear of it
        long lateToken =
                node.describe("jobs/revoked").orElseThrow().holders().get(0).fencingToken();
        node.apply(new Command.Revoke("jobs/revoked")); // nor of this
        assertThat(node.isCurrentHolder("jobs/revoked", lateToken)).isFalse();
        await("the grant and the revoke are dropped on their way to the late client")
                .atMost(Duration.ofSeconds(10))
                .until(() -> link.droppedEvents() >= 2);

        link.heal(); // the next retry hears the remembered answer: granted
        await("the late client's acquire has an outcome")
                .atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(1))
                .until(() -> {
                    timers.advance(STEP);
                    return waiting.isDone();
                });
        assertThat(handedOut.exceptionally(e -> null).get(5, TimeUnit.SECONDS))
                .as("the lease as the caller got it, while token %d is revoked", lateToken)
                .isNull();
        assertThat(waiting)
                .failsWithin(Duration.ZERO)
                .withThrowableOfType(ExecutionException.class)
                .havingCause()
                .isInstanceOf(LockLostException.class)
                .withMessageContaining("token " + lateToken);
        assertThat(node.describe("jobs/revoked").map(i -> i.holders().size()).orElse(0))
                .isZero();
    }
}
