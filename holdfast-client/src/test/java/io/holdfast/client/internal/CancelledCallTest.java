package io.holdfast.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.LockClient;
import io.holdfast.Watch;
import io.holdfast.WatchEvent;
import io.holdfast.WatchTarget;
import io.holdfast.endpoint.ClientPort;
import io.holdfast.model.ChangePage;
import io.holdfast.model.ChangePosition;
import io.holdfast.node.LocalNode;
import io.holdfast.node.LocalTransport;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A call the caller cancels ends on the connection too. A watch that is closed cancels its long
 * poll; before, the poll stayed on its channel until its wait was over, and closing the client
 * then waited out the channels' one-second grace for it (every close of a gRPC client that had
 * watched, measured at 1.03 s against 0.03).
 */
class CancelledCallTest {
    /** Long polls that reached the member and wait there (a read from a position, with a wait). */
    private final AtomicInteger waitingPolls = new AtomicInteger();

    private final ClientPort server = ClientPort.start(
            "127.0.0.1",
            0,
            new ForwardingLockService(new LocalTransport(LocalNode.named("cancelled-" + UUID.randomUUID()))) {
                @Override
                public CompletableFuture<ChangePage> changes(
                        String identity, WatchTarget target, ChangePosition from, long waitMillis) {
                    if (from != null && waitMillis > 0) {
                        waitingPolls.incrementAndGet();
                    }
                    return delegate.changes(identity, target, from, waitMillis);
                }
            });

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void aCancelledLongPollLeavesItsChannelAndTheCloseDoesNotWaitForIt() throws Exception {
        ClusterTransport transport =
                new ClusterTransport(List.of(new MemberAddress("127.0.0.1", server.port())), Duration.ofSeconds(5));
        WatchTarget target = WatchTarget.prefix("jobs/");
        ChangePage first = transport.changes(null, target, null, 0).get(5, TimeUnit.SECONDS);
        // From where the first read left off nothing has changed: the member holds the poll for its wait.
        CompletableFuture<ChangePage> poll = transport.changes(null, target, first.next(), 30_000);
        assertThat(poll).isNotDone();

        poll.cancel(false);

        closesWithoutItsGrace(transport, "the close, with the cancelled poll no longer on the channel");
    }

    /**
     * The same through the client as users have it: a watch over gRPC is closed while its long poll
     * waits at the member, and the client then closes at once.
     */
    @Test
    void aClientThatClosedAWatchClosesWithoutWaitingForItsPoll() throws Exception {
        LockClient client = LockClient.open("holdfast://127.0.0.1:" + server.port() + "?transport=grpc");
        try {
            BlockingQueue<WatchEvent> events = new LinkedBlockingQueue<>();
            Watch watch = client.watch(WatchTarget.prefix("jobs/"), events::add);
            assertThat(events.poll(5, TimeUnit.SECONDS)).as("the watch's state").isNotNull();
            await().atMost(Duration.ofSeconds(5)).until(() -> waitingPolls.get() >= 1);

            watch.close();
        } finally {
            closesWithoutItsGrace(client, "the client's close after its watch's");
        }
    }

    /** Closes {@code closeable} and checks it took less than 700 ms: the channels' grace is 1,000 ms. */
    private static void closesWithoutItsGrace(AutoCloseable closeable, String what) throws Exception {
        long start = System.nanoTime();
        closeable.close();
        long closeMillis = (System.nanoTime() - start) / 1_000_000;
        assertThat(closeMillis).as(what + " (the channels' grace is 1,000 ms)").isLessThan(700);
    }
}
