package io.holdfast.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.endpoint.ClientPort;
import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.LockService;
import io.holdfast.model.Reply;
import io.holdfast.node.LocalNode;
import io.holdfast.node.LocalTransport;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * After its home dies, a transport's started event stream re-opens at the new home only once that
 * member answered a heartbeat ({@link HeartbeatsFirst}), or once the gate's bound has passed: two
 * gRPC members over one node on loopback, the second recording what reaches it and when.
 */
class HeartbeatsFirstTest {
    @RegisterExtension
    final Closing closing = new Closing();

    private final ScheduledExecutorService delays = Executors.newSingleThreadScheduledExecutor();
    private final LocalNode node =
            LocalNode.named("heartbeats-first-" + UUID.randomUUID().toString().substring(0, 8));

    @AfterEach
    void stopDelays() {
        delays.shutdownNow();
    }

    @Test
    void theStreamReopensAtTheNewHomeAfterItAnsweredAHeartbeatNotBefore() throws Exception {
        // The new home answers heartbeats 300 ms late: a stream opened at the move would come first.
        Recorder next = new Recorder(new LocalTransport(node), Duration.ofMillis(300), delays);
        Moved moved = moveHome(next);

        await().atMost(Duration.ofSeconds(10)).until(() -> next.seen.contains("subscribe"));
        assertThat(next.seen)
                .as("what reached the new home, in order")
                .startsWith("heartbeat asked", "heartbeat answered", "subscribe");
        assertThat(next.subscribedAfterMoveNanos(moved.atNanos))
                .as("ns from the move to the stream's re-open: the heartbeat's answer, not the gate's bound")
                .isLessThan(HeartbeatsFirst.AT_MOST.toNanos());
        assertThat(moved.transport.target()).isEqualTo(moved.newHome);
    }

    @Test
    void aNewHomeThatHoldsHeartbeatsGetsTheStreamOnceTheBoundHasPassed() throws Exception {
        Recorder next = new Recorder(new LocalTransport(node), null, delays); // never answers heartbeats
        Moved moved = moveHome(next);

        await().atMost(Duration.ofSeconds(10)).until(() -> next.seen.contains("subscribe"));
        assertThat(next.seen).startsWith("heartbeat asked", "subscribe");
        assertThat(next.subscribedAfterMoveNanos(moved.atNanos))
                .as("ns from the move to the stream's re-open")
                .isGreaterThanOrEqualTo(HeartbeatsFirst.AT_MOST.toNanos());
    }

    private record Moved(ClusterTransport transport, MemberAddress newHome, long atNanos) {}

    /**
     * A transport homed on a first member, with one session whose event stream started there; then
     * the first member stops. Returns once it has stopped.
     */
    private Moved moveHome(Recorder next) throws Exception {
        ClientPort first = closing.add(ClientPort.start("127.0.0.1", 0, new LocalTransport(node)));
        ClientPort second = closing.add(ClientPort.start("127.0.0.1", 0, next));
        MemberAddress atFirst = new MemberAddress("127.0.0.1", first.port());
        MemberAddress atSecond = new MemberAddress("127.0.0.1", second.port());
        ClusterTransport transport =
                closing.add(HomeChoiceTest.homedOnFirst(List.of(atFirst, atSecond), Duration.ofSeconds(5)));
        String session = "heartbeats-first-" + UUID.randomUUID().toString().replace("-", "");
        // No runtime renews the session here: the only heartbeat the transport sends is the move's.
        assertThat(transport
                        .submit(new Command.OpenSession(session, "test", 60_000, 0))
                        .get(5, TimeUnit.SECONDS))
                .isEqualTo(Reply.Ok.INSTANCE);
        List<Event> events = new CopyOnWriteArrayList<>();
        transport.subscribe(session, new LockService.Listener() {
            @Override
            public void onEvent(Event event) {
                events.add(event);
            }

            @Override
            public void onGap() {}
        });
        assertThat(transport.target()).isEqualTo(atFirst);
        assertThat(next.seen).as("nothing reached the second member yet").isEmpty();

        long at = System.nanoTime();
        first.close();
        return new Moved(transport, atSecond, at);
    }

    /** Passes calls on, recording heartbeats (asked, answered) and stream opens in order. */
    private static final class Recorder extends ForwardingLockService {
        final List<String> seen = new CopyOnWriteArrayList<>();
        private volatile long subscribedNanos;
        private final Duration answerAfter;
        private final ScheduledExecutorService delays;

        /** @param answerAfter how late heartbeats are answered; null: never */
        Recorder(LockService delegate, Duration answerAfter, ScheduledExecutorService delays) {
            super(delegate);
            this.answerAfter = answerAfter;
            this.delays = delays;
        }

        @Override
        public CompletableFuture<List<Reply>> keepAliveMany(List<String> sessionIds) {
            seen.add("heartbeat asked");
            CompletableFuture<List<Reply>> answer = new CompletableFuture<>();
            if (answerAfter != null) {
                delays.schedule(
                        () -> delegate.keepAliveMany(sessionIds).whenComplete((r, e) -> {
                            seen.add("heartbeat answered");
                            if (e != null) {
                                answer.completeExceptionally(e);
                            } else {
                                answer.complete(r);
                            }
                        }),
                        answerAfter.toMillis(),
                        TimeUnit.MILLISECONDS);
            }
            return answer;
        }

        @Override
        public void subscribe(String sessionId, Listener listener) {
            if (subscribedNanos == 0) {
                subscribedNanos = System.nanoTime();
            }
            seen.add("subscribe");
            super.subscribe(sessionId, listener);
        }

        long subscribedAfterMoveNanos(long movedAtNanos) {
            return subscribedNanos - movedAtNanos;
        }
    }
}
