package io.holdfast.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.holdfast.LockMode;
import io.holdfast.endpoint.ClientPort;
import io.holdfast.endpoint.HoldfastGrpcService;
import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.LockService;
import io.holdfast.model.Reply;
import io.holdfast.node.LocalNode;
import io.holdfast.node.LocalTransport;
import io.holdfast.protocol.v1.EventsRequest;
import io.holdfast.protocol.v1.HoldfastGrpc;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * After its home dies, a transport's started event streams re-open at the new home on one call
 * that carries all their sessions ({@link SharedOpens}), and their events arrive on it; a member
 * whose build refuses such a call gets one call per session instead. Two gRPC members over one
 * node on loopback; the second records the Events calls that reach it.
 */
class SharedOpensTest {
    private static final Duration PROMPTLY = Duration.ofSeconds(10);

    @RegisterExtension
    final Closing closing = new Closing();

    private final LocalNode node =
            LocalNode.named("shared-opens-" + UUID.randomUUID().toString().substring(0, 8));

    @Test
    void theStartedStreamsOfAMovedTransportReopenAsOneCallAndTheirEventsArrive() throws Exception {
        EventsCalls second = new EventsCalls(false);
        Moved moved = moveHome(second, 3);

        await().atMost(PROMPTLY).until(() -> !second.sessionsPerCall.isEmpty());
        moved.revokeAll();
        await().atMost(PROMPTLY).until(() -> moved.lost.size() == 3);
        assertThat(second.sessionsPerCall)
                .as("Events calls at the new home, sessions each")
                .containsExactly(3);
        assertThat(moved.lost).extracting(Event::sessionId).containsExactlyInAnyOrderElementsOf(moved.sessions);
    }

    @Test
    void aMemberThatRefusesASharedCallGetsOneCallPerSession() throws Exception {
        EventsCalls second = new EventsCalls(true);
        Moved moved = moveHome(second, 3);

        await().atMost(PROMPTLY).until(() -> second.sessionsPerCall.size() == 4);
        moved.revokeAll();
        await().atMost(PROMPTLY).until(() -> moved.lost.size() == 3);
        assertThat(second.sessionsPerCall).containsExactly(3, 1, 1, 1);
        assertThat(moved.lost).extracting(Event::sessionId).containsExactlyInAnyOrderElementsOf(moved.sessions);
    }

    private final class Moved {
        final List<String> sessions = new ArrayList<>();
        final List<Event> lost = new CopyOnWriteArrayList<>();

        void revokeAll() {
            for (String s : sessions) {
                node.apply(new Command.Revoke("lock-" + s));
            }
        }
    }

    /**
     * A transport homed on a first member, with {@code n} sessions, each holding a lock and with
     * its event stream started there; then the first member stops.
     */
    private Moved moveHome(EventsCalls second, int n) throws Exception {
        ClientPort first = closing.add(ClientPort.start("127.0.0.1", 0, new LocalTransport(node)));
        Server next = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
                .addService(ServerInterceptors.intercept(
                        new HoldfastGrpcService(new LocalTransport(node)).bindService(), second))
                .build()
                .start();
        closing.add(() -> next.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
        ClusterTransport transport = closing.add(HomeChoiceTest.homedOnFirst(
                List.of(new MemberAddress("127.0.0.1", first.port()), new MemberAddress("127.0.0.1", next.getPort())),
                Duration.ofSeconds(5)));
        Moved moved = new Moved();
        for (int i = 0; i < n; i++) {
            String session =
                    "shared-opens-" + i + "-" + UUID.randomUUID().toString().replace("-", "");
            moved.sessions.add(session);
            assertThat(transport
                            .submit(new Command.OpenSession(session, "test", 60_000, 0))
                            .get(5, TimeUnit.SECONDS))
                    .isEqualTo(Reply.Ok.INSTANCE);
            assertThat(transport
                            .submit(new Command.Acquire(
                                    new Command.Invocation(session, 1, 1),
                                    "lock-" + session,
                                    LockMode.EXCLUSIVE,
                                    1,
                                    1,
                                    1,
                                    0,
                                    0))
                            .get(5, TimeUnit.SECONDS))
                    .isInstanceOf(Reply.Granted.class);
            transport.subscribe(session, new LockService.Listener() {
                @Override
                public void onEvent(Event event) {
                    moved.lost.add(event);
                }

                @Override
                public void onGap() {}
            });
        }
        assertThat(second.sessionsPerCall)
                .as("nothing reached the second member yet")
                .isEmpty();
        first.close();
        return moved;
    }

    /** Records the sessions of each Events call; refuses calls of several, as an older build, if told to. */
    private static final class EventsCalls implements ServerInterceptor {
        final List<Integer> sessionsPerCall = new CopyOnWriteArrayList<>();
        private final boolean refuseShared;

        EventsCalls(boolean refuseShared) {
            this.refuseShared = refuseShared;
        }

        @Override
        public <Q, A> ServerCall.Listener<Q> interceptCall(
                ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
            ServerCall.Listener<Q> listener = next.startCall(call, headers);
            if (!call.getMethodDescriptor().equals(HoldfastGrpc.getEventsMethod())) {
                return listener;
            }
            return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
                private boolean refused;

                @Override
                public void onMessage(Q message) {
                    EventsRequest request = (EventsRequest) message;
                    int sessions = request.getSessionIdsCount() == 0 ? 1 : request.getSessionIdsCount();
                    sessionsPerCall.add(sessions);
                    if (refuseShared && request.getSessionIdsCount() > 0) {
                        refused = true;
                        call.close(Status.INVALID_ARGUMENT.withDescription("events need a session id"), new Metadata());
                        return;
                    }
                    super.onMessage(message);
                }

                @Override
                public void onHalfClose() {
                    if (!refused) {
                        super.onHalfClose();
                    }
                }
            };
        }
    }
}
