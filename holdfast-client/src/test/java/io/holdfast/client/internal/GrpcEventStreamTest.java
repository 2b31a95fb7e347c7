package io.holdfast.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.LockClient;
import io.holdfast.LockInfo;
import io.holdfast.LockMode;
import io.holdfast.endpoint.ClientPort;
import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.LockService;
import io.holdfast.model.Reply;
import io.holdfast.node.LocalNode;
import io.holdfast.node.LocalTransport;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The event stream survives the loss of its server: the client re-opens it when the server is
 * back, is told of the gap, and learns what happened meanwhile by re-asking.
 */
class GrpcEventStreamTest {
    private static final Duration PROMPTLY = Duration.ofSeconds(5);

    private final String nodeName =
            "grpc-events-" + UUID.randomUUID().toString().substring(0, 8);
    private final LocalNode node = LocalNode.named(nodeName);
    private ClientPort server;
    private int port;

    @BeforeEach
    void start() {
        server = ClientPort.start("127.0.0.1", 0, new LocalTransport(node));
        port = server.port();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    /** Stops the server, runs {@code meanwhile}, and starts it again on the same port. */
    private void restartServer(Runnable meanwhile) {
        server.close();
        meanwhile.run();
        server = ClientPort.start("127.0.0.1", port, new LocalTransport(node));
    }

    @Test
    void aGrantMadeWhileTheServerWasDownReachesTheWaiterAfterTheStreamReopens() throws Exception {
        try (LockClient holder = LockClient.open("mem:" + nodeName);
                LockClient waiter = LockClient.open("holdfast://127.0.0.1:" + port)) {
            var held = holder.lock("jobs/1").acquire(Duration.ofSeconds(1));
            CompletableFuture<io.holdfast.Lease> waiting = waiter.lock("jobs/1").acquireAsync(Duration.ofSeconds(60));
            await().atMost(PROMPTLY).until(() -> waiters(node.describe("jobs/1")) == 1);

            restartServer(() -> {
                held.release(); // the table grants the waiter now; its event has nowhere to go
                assertThat(holderSession(node.describe("jobs/1"))).isEqualTo(waiter.sessionId());
                assertThat(waiting)
                        .as("the grant event was lost with the stream")
                        .isNotDone();
            });

            // Without the gap the waiter would learn of its grant only at its 60 s backstop.
            io.holdfast.Lease lease = waiting.get(PROMPTLY.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(lease.fencingToken())
                    .isEqualTo(node.describe("jobs/1")
                            .orElseThrow()
                            .holders()
                            .get(0)
                            .fencingToken());
            assertThat(lease.isValid()).isTrue();
        }
    }

    @Test
    void theTransportReportsOneGapPerReopenAndDeliversAgainAfterIt() throws Exception {
        String session = "events-" + UUID.randomUUID().toString().replace("-", "");
        RecordingListener listener = new RecordingListener();
        try (ClusterTransport transport =
                new ClusterTransport(List.of(new MemberAddress("127.0.0.1", port)), Duration.ofSeconds(5))) {
            // Open the session first: its call connects the channel and loads the classes, so that
            // the stream below starts within subscribe's wait even on a loaded machine (a stream
            // that starts late is rightly a gap, which would be counted with the restart's).
            open(transport, session);
            transport.subscribe(session, listener);
            assertThat(listener.gaps.get())
                    .as("a first stream that started in time is no gap")
                    .isZero();
            long first = grant(transport, session, "a", 1);

            node.apply(new Command.Revoke("a"));
            await().atMost(PROMPTLY).until(() -> listener.events.size() == 1);
            assertThat(listener.events.get(0)).isEqualTo(new Event.Lost(session, "a", first, Event.Reason.REVOKED));
            assertThat(listener.gaps.get())
                    .as("the first stream started before subscribe returned")
                    .isZero();

            restartServer(() -> {});
            await().atMost(PROMPTLY).until(() -> listener.gaps.get() == 1);

            long second = grant(transport, session, "b", 3);
            node.apply(new Command.Revoke("b"));
            await().atMost(PROMPTLY).until(() -> listener.events.size() == 2);
            assertThat(listener.events.get(1)).isEqualTo(new Event.Lost(session, "b", second, Event.Reason.REVOKED));
            assertThat(listener.gaps.get()).isEqualTo(1);

            transport.unsubscribe(session);
            await().atMost(PROMPTLY).until(() -> server.service().streamCount() == 0);
        }
    }

    private static void open(LockService transport, String session) throws Exception {
        Reply r = transport
                .submit(new Command.OpenSession(session, "test", 30_000, 0))
                .get(5, TimeUnit.SECONDS);
        assertThat(r).isEqualTo(Reply.Ok.INSTANCE);
    }

    private static long grant(LockService transport, String session, String name, long seq) throws Exception {
        Reply r = transport
                .submit(new Command.Acquire(
                        new Command.Invocation(session, seq, seq), name, LockMode.EXCLUSIVE, 1, 1, 1, 0, 0))
                .get(5, TimeUnit.SECONDS);
        assertThat(r).isInstanceOf(Reply.Granted.class);
        return ((Reply.Granted) r).token();
    }

    private static int waiters(Optional<LockInfo> info) {
        return info.map(i -> i.waiters().size()).orElse(0);
    }

    private static String holderSession(Optional<LockInfo> info) {
        return info.map(i -> i.holders().isEmpty() ? null : i.holders().get(0).sessionId())
                .orElse(null);
    }

    private static final class RecordingListener implements LockService.Listener {
        final List<Event> events = new CopyOnWriteArrayList<>();
        final AtomicInteger gaps = new AtomicInteger();

        @Override
        public void onEvent(Event event) {
            events.add(event);
        }

        @Override
        public void onGap() {
            gaps.incrementAndGet();
        }
    }
}
