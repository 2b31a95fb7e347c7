package io.holdfast.endpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.holdfast.ErrorCode;
import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.NotLeaderException;
import io.holdfast.model.Reply;
import io.holdfast.protocol.Convert;
import io.holdfast.protocol.v1.EventMessage;
import io.holdfast.protocol.v1.EventsRequest;
import io.holdfast.protocol.v1.HoldfastGrpc;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One event stream carrying several sessions ({@code session_ids}): each session's own start and
 * events, sessions leaving one by one (a newer stream, an expiry, a close through this member),
 * the stream ending with its last session, and the requests refused whole.
 */
class SharedEventStreamTest {
    private final ScriptedLockService backend = new ScriptedLockService();
    private HoldfastGrpcService service;
    private Server server;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        service = new HoldfastGrpcService(backend);
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name)
                .addService(service.bindService())
                .build()
                .start();
        channel = InProcessChannelBuilder.forName(name).build();
    }

    @AfterEach
    void stop() {
        channel.shutdownNow();
        server.shutdownNow();
    }

    @Test
    void eachSessionGetsItsStartAndItsOwnEvents() {
        HoldfastGrpcServiceTest.Recorder shared = open(List.of("s1", "s2", "s3"));
        await().until(() -> shared.messages.size() == 3);
        assertThat(shared.messages).allMatch(EventMessage::hasStarted);
        assertThat(shared.messages).extracting(EventMessage::getSessionId).containsExactly("s1", "s2", "s3");
        LockServiceListenerAccess.listener(backend, "s2").onEvent(new Event.WaitTimedOut("s2", 4, "a"));
        LockServiceListenerAccess.listener(backend, "s3").onGap();
        await().until(() -> shared.messages.size() == 5);
        assertThat(shared.messages.get(3).getSessionId()).isEqualTo("s2");
        assertThat(shared.messages.get(3).hasWaitTimedOut()).isTrue();
        assertThat(shared.messages.get(4).getSessionId()).isEqualTo("s3");
        assertThat(shared.messages.get(4).hasGap()).isTrue();
        assertThat(service.streamCount()).isEqualTo(3);
    }

    @Test
    void aSessionTakenByANewerStreamLeavesTheRestServedAndTheLastOneTakenCompletesIt() {
        HoldfastGrpcServiceTest.Recorder shared = open(List.of("s1", "s2"));
        await().until(() -> shared.messages.size() == 2);
        HoldfastGrpcServiceTest.Recorder own = open(List.of("s1"));
        await().until(() -> own.messages.size() == 1);
        LockServiceListenerAccess.listener(backend, "s2").onEvent(new Event.WaitTimedOut("s2", 5, "b"));
        await().until(() -> shared.messages.size() == 3);
        assertThat(shared.completed).as("s2 is still on it").isFalse();
        LockServiceListenerAccess.listener(backend, "s1").onEvent(new Event.WaitTimedOut("s1", 6, "c"));
        await().until(() -> own.messages.size() == 2);
        assertThat(shared.messages).hasSize(3);

        HoldfastGrpcServiceTest.Recorder s2Own = open(List.of("s2"));
        await().until(() -> shared.completed && s2Own.messages.size() == 1);
        shared.cancel(); // late: must not unsubscribe the sessions the newer streams took
        assertThat(backend.log).doesNotContain("unsubscribe s1", "unsubscribe s2");
        assertThat(service.streamCount()).isEqualTo(2);
    }

    @Test
    void aCancelledSharedStreamUnsubscribesEverySessionItStillCarries() {
        HoldfastGrpcServiceTest.Recorder shared = open(List.of("s1", "s2", "s3"));
        await().until(() -> shared.messages.size() == 3);
        HoldfastGrpcServiceTest.Recorder own = open(List.of("s3"));
        await().until(() -> own.messages.size() == 1);
        shared.cancel();
        await().until(() -> backend.log.contains("unsubscribe s1") && backend.log.contains("unsubscribe s2"));
        assertThat(backend.log).doesNotContain("unsubscribe s3");
        assertThat(service.streamCount()).isEqualTo(1);
    }

    @Test
    void aSessionLeavesWithItsExpiryOrItsCloseAndTheStreamCompletesWithTheLast() {
        backend.submit = c -> CompletableFuture.completedFuture(
                c instanceof Command.CloseSession cs
                                && cs.invocation().sessionId().equals("s1")
                        ? Reply.Ok.INSTANCE
                        : Reply.Failed.of(ErrorCode.SESSION_EXPIRED, "no session " + c));
        HoldfastGrpcServiceTest.Recorder shared = open(List.of("s1", "s2", "s3"));
        await().until(() -> shared.messages.size() == 3);

        close("s1");
        assertThat(backend.log).contains("unsubscribe s1");
        assertThat(shared.completed).isFalse();

        LockServiceListenerAccess.listener(backend, "s2").onEvent(new Event.SessionExpired("s2"));
        await().until(() -> backend.log.contains("unsubscribe s2"));
        assertThat(shared.messages.get(3).hasSessionExpired()).isTrue();
        assertThat(shared.completed).isFalse();

        close("s3"); // answered SESSION_EXPIRED: the session is gone all the same
        await().until(() -> shared.completed);
        assertThat(backend.listeners).isEmpty();
        assertThat(service.streamCount()).isZero();
    }

    @Test
    void aCloseOfASessionOnItsOwnStreamLeavesThatStreamToItsClient() {
        backend.submit = c -> CompletableFuture.completedFuture(Reply.Ok.INSTANCE);
        HoldfastGrpcServiceTest.Recorder own = open(List.of("s1"));
        await().until(() -> own.messages.size() == 1);
        close("s1");
        assertThat(own.completed).isFalse();
        assertThat(backend.log).doesNotContain("unsubscribe s1");
    }

    @Test
    void aSubscriptionRefusedEndsTheWholeStreamAndDropsTheSessionsItTook() {
        backend.subscribeFailure = new NotLeaderException("stopping", null);
        backend.subscribeFails = id -> id.equals("s3");
        HoldfastGrpcServiceTest.Recorder shared = open(List.of("s1", "s2", "s3"));
        await().until(() -> shared.error != null);
        assertThat(Status.fromThrowable(shared.error).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(backend.log).contains("unsubscribe s1", "unsubscribe s2");
        assertThat(backend.listeners).isEmpty();
        assertThat(service.streamCount()).isZero();
    }

    @Test
    void theBackendEndingItsSessionsEndsTheStreamWithTheLastCause() {
        HoldfastGrpcServiceTest.Recorder shared = open(List.of("s1", "s2"));
        await().until(() -> shared.messages.size() == 2);
        LockServiceListenerAccess.listener(backend, "s1").onEnd(new NotLeaderException("shutting down", null));
        assertThat(shared.error).isNull();
        LockServiceListenerAccess.listener(backend, "s2").onEnd(new NotLeaderException("shutting down", null));
        await().until(() -> shared.error != null);
        assertThat(Status.fromThrowable(shared.error).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    }

    @Test
    void badRequestsAreRefusedWholeWithOneLine() {
        assertRefused(
                EventsRequest.newBuilder()
                        .setSessionId("s1")
                        .addSessionIds("s2")
                        .build(),
                Status.Code.INVALID_ARGUMENT,
                "in session_id or session_ids, not both");
        assertRefused(
                EventsRequest.newBuilder()
                        .addSessionIds("s1")
                        .addSessionIds("s1")
                        .build(),
                Status.Code.INVALID_ARGUMENT,
                "the session s1 is named twice in one event stream");
        assertRefused(
                EventsRequest.newBuilder().addSessionIds("s1").addSessionIds("").build(),
                Status.Code.INVALID_ARGUMENT,
                "one of the stream's is empty");
        List<String> many = new ArrayList<>();
        for (int i = 0; i <= EventStreams.MAX_SESSIONS; i++) {
            many.add("s" + i);
        }
        assertRefused(
                EventsRequest.newBuilder().addAllSessionIds(many).build(),
                Status.Code.INVALID_ARGUMENT,
                "at most 10000 sessions, not 10001");
        backend.usable = id -> !id.equals("theirs");
        assertRefused(
                EventsRequest.newBuilder()
                        .addSessionIds("s1")
                        .addSessionIds("theirs")
                        .build(),
                Status.Code.PERMISSION_DENIED,
                "session theirs belongs to another identity");
        assertThat(backend.log).as("nothing subscribed").isEmpty();
    }

    private void assertRefused(EventsRequest request, Status.Code code, String message) {
        HoldfastGrpcServiceTest.Recorder r = new HoldfastGrpcServiceTest.Recorder();
        HoldfastGrpc.newStub(channel).events(request, r);
        await().until(() -> r.error != null);
        Status status = Status.fromThrowable(r.error);
        assertThat(status.getCode()).isEqualTo(code);
        assertThat(status.getDescription()).contains(message).doesNotContain("\n");
        assertThat(r.messages).isEmpty();
    }

    private void close(String session) {
        Reply reply = Convert.fromProto(HoldfastGrpc.newBlockingStub(channel)
                .submit(Convert.toProto(new Command.CloseSession(new Command.Invocation(session, 9, 9)))));
        assertThat(reply).isNotNull();
    }

    private HoldfastGrpcServiceTest.Recorder open(List<String> sessions) {
        HoldfastGrpcServiceTest.Recorder r = new HoldfastGrpcServiceTest.Recorder();
        EventsRequest.Builder request = EventsRequest.newBuilder();
        if (sessions.size() == 1) {
            request.setSessionId(sessions.get(0)); // a stream of its own, as before
        } else {
            request.addAllSessionIds(sessions);
        }
        HoldfastGrpc.newStub(channel).events(request.build(), r);
        return r;
    }
}
