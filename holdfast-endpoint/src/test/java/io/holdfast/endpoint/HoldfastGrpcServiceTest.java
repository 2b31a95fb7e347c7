package io.holdfast.endpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.holdfast.InvalidArgumentException;
import io.holdfast.UnavailableException;
import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.NotLeaderException;
import io.holdfast.model.Reply;
import io.holdfast.protocol.Convert;
import io.holdfast.protocol.GrpcErrors;
import io.holdfast.protocol.v1.CommandRequest;
import io.holdfast.protocol.v1.DescribeRequest;
import io.holdfast.protocol.v1.EventMessage;
import io.holdfast.protocol.v1.EventsRequest;
import io.holdfast.protocol.v1.HoldfastGrpc;
import io.holdfast.protocol.v1.IsCurrentHolderRequest;
import io.holdfast.protocol.v1.ListRequest;
import io.holdfast.protocol.v1.ReadRegisterRequest;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class HoldfastGrpcServiceTest {
    private static final Command RELEASE =
            new Command.Release(new Command.Invocation("session-0123456789", 1, 1), "orders/42", 7);
    private static final String SESSION = "session-0123456789";

    final ScriptedLockService backend = new ScriptedLockService();
    private HoldfastGrpcService service;
    private AutoCloseable server;
    private ManagedChannel channel;
    private HoldfastGrpc.HoldfastBlockingStub stub;

    @BeforeEach
    void start() throws Exception {
        service = new HoldfastGrpcService(backend);
        channel = connect(service.bindService());
        stub = HoldfastGrpc.newBlockingStub(channel);
    }

    /**
     * Serves {@code service} and returns a channel to it; {@link #server} is closed after each
     * test. Here gRPC in-process; {@code FramedServiceTest} runs every test over frames.
     */
    ManagedChannel connect(io.grpc.ServerServiceDefinition definition) throws Exception {
        String name = InProcessServerBuilder.generateName();
        Server s = InProcessServerBuilder.forName(name)
                .addService(definition)
                .build()
                .start();
        server = s::shutdownNow;
        return InProcessChannelBuilder.forName(name).build();
    }

    void serving(AutoCloseable server) {
        this.server = server;
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdownNow();
        server.close();
    }

    @Test
    void aCommandReachesTheBackendAndItsReplyComesBack() {
        List<Command> seen = new CopyOnWriteArrayList<>();
        backend.submit = c -> {
            seen.add(c);
            return CompletableFuture.completedFuture(new Reply.Granted(9));
        };
        assertThat(Convert.fromProto(stub.submit(Convert.toProto(RELEASE)))).isEqualTo(new Reply.Granted(9));
        assertThat(seen).containsExactly(RELEASE);
    }

    @Test
    void heartbeatsOfSeveralSessionsAreAnsweredOneReplyEachInOrder() {
        backend.keepAlive = id -> CompletableFuture.completedFuture(
                id.equals("s-gone")
                        ? Reply.Failed.of(io.holdfast.ErrorCode.SESSION_EXPIRED, "unknown")
                        : Reply.Ok.INSTANCE);
        backend.usable = id -> !id.equals("s-theirs");
        List<Reply> replies = stub
                .keepAliveMany(io.holdfast.protocol.v1.KeepAliveManyRequest.newBuilder()
                        .addAllSessionIds(List.of("s-mine", "s-theirs", "s-gone", "s-also-mine"))
                        .build())
                .getRepliesList()
                .stream()
                .map(Convert::fromProto)
                .toList();
        assertThat(replies).hasSize(4);
        assertThat(replies.get(0)).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(replies.get(1))
                .as("another identity's session: refused, not kept alive")
                .isInstanceOfSatisfying(Reply.Failed.class, f -> {
                    assertThat(f.code()).isEqualTo(io.holdfast.ErrorCode.PERMISSION_DENIED);
                    assertThat(f.message()).contains("s-theirs");
                });
        assertThat(replies.get(2))
                .isInstanceOfSatisfying(
                        Reply.Failed.class, f -> assertThat(f.code()).isEqualTo(io.holdfast.ErrorCode.SESSION_EXPIRED));
        assertThat(replies.get(3)).isEqualTo(Reply.Ok.INSTANCE);
    }

    @Test
    void heartbeatsTheBackendCannotServeFailTheWholeCallAndTooManyAreRefused() {
        backend.keepAlive = id -> CompletableFuture.failedFuture(new UnavailableException("no leader is known"));
        assertThatThrownBy(() -> stub.keepAliveMany(io.holdfast.protocol.v1.KeepAliveManyRequest.newBuilder()
                        .addAllSessionIds(List.of("s-1", "s-2"))
                        .build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                    assertThat(e.getStatus().getDescription()).contains("no leader is known");
                });
        List<String> tooMany = new java.util.ArrayList<>();
        for (int i = 0; i <= ManyHeartbeats.MAX_SESSIONS; i++) {
            tooMany.add("s-" + i);
        }
        assertThatThrownBy(() -> stub.keepAliveMany(io.holdfast.protocol.v1.KeepAliveManyRequest.newBuilder()
                        .addAllSessionIds(tooMany)
                        .build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription())
                            .isEqualTo("at most 10000 sessions a heartbeat call, not 10001");
                });
    }

    @Test
    void keysAnswersTheBackendsPageAndAnUnsetLimitAsksForAThousand() {
        var page = Convert.fromProto(stub.keys(Convert.keysRequest("svc/", "svc/a", 5)));
        assertThat(page.keys()).singleElement().satisfies(e -> {
            assertThat(e.key()).isEqualTo("svc/k");
            assertThat(new String(e.value(), java.nio.charset.StandardCharsets.UTF_8))
                    .isEqualTo("after=svc/a limit=5");
            assertThat(e.owner()).isEqualTo("s-1");
        });
        assertThat(page.more()).isTrue();
        assertThat(page.position()).hasToString("7.0");
        assertThat(Convert.fromProto(stub.keys(io.holdfast.protocol.v1.KeysRequest.getDefaultInstance()))
                        .keys()
                        .get(0)
                        .value())
                .asString(java.nio.charset.StandardCharsets.UTF_8)
                .isEqualTo("after= limit=1000");
        assertThatThrownBy(() -> stub.keys(Convert.keysRequest("", "", 1_001)))
                .isInstanceOfSatisfying(
                        StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT))
                .hasMessageContaining("keys.limit must be 1 to 1000 (0 for 1000), not 1001");
    }

    @Test
    void theReadsAnswerWhatTheBackendSays() {
        assertThat(stub.describe(DescribeRequest.newBuilder().setName("known").build())
                        .getLock()
                        .getName())
                .isEqualTo("known");
        assertThat(stub.describe(DescribeRequest.newBuilder().setName("other").build())
                        .getFound())
                .isFalse();
        assertThat(stub.list(ListRequest.newBuilder()
                                .setPrefix("p/")
                                .setLimit(3)
                                .build())
                        .getLocksList())
                .singleElement()
                .satisfies(l -> assertThat(l.getName()).isEqualTo("p/a"))
                .satisfies(l -> assertThat(l.getMaxPermits()).isEqualTo(3));
        assertThat(stub.isCurrentHolder(IsCurrentHolderRequest.newBuilder()
                                .setName("x")
                                .setToken(42)
                                .build())
                        .getCurrent())
                .isTrue();
        assertThat(stub.readRegister(
                                ReadRegisterRequest.newBuilder().setKey("k").build())
                        .getVersion())
                .isEqualTo(3);
    }

    @Test
    void severalTokensAreCheckedInOneCallOneAnswerEachInOrder() {
        io.holdfast.protocol.v1.IsCurrentHolderManyRequest.Builder asked =
                io.holdfast.protocol.v1.IsCurrentHolderManyRequest.newBuilder();
        for (long token : new long[] {41, 42, 7, 42}) {
            asked.addChecks(
                    IsCurrentHolderRequest.newBuilder().setName("x/" + token).setToken(token));
        }
        assertThat(stub.isCurrentHolderMany(asked.build()).getCurrentList()).containsExactly(false, true, false, true);
        assertThat(stub.isCurrentHolderMany(io.holdfast.protocol.v1.IsCurrentHolderManyRequest.getDefaultInstance())
                        .getCurrentList())
                .isEmpty();
    }

    @Test
    void aCheckOfSeveralTokensNamingAnUnreadableLockOrTooManyIsRefusedWhole() {
        backend.readable = name -> !name.startsWith("secret/");
        io.holdfast.protocol.v1.IsCurrentHolderManyRequest unreadable =
                io.holdfast.protocol.v1.IsCurrentHolderManyRequest.newBuilder()
                        .addChecks(IsCurrentHolderRequest.newBuilder()
                                .setName("open/a")
                                .setToken(42))
                        .addChecks(IsCurrentHolderRequest.newBuilder()
                                .setName("secret/b")
                                .setToken(42))
                        .build();
        assertThatThrownBy(() -> stub.isCurrentHolderMany(unreadable))
                .isInstanceOfSatisfying(
                        StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED))
                .hasMessageContaining("may not read secret/b");

        io.holdfast.protocol.v1.IsCurrentHolderManyRequest.Builder tooMany =
                io.holdfast.protocol.v1.IsCurrentHolderManyRequest.newBuilder();
        for (int i = 0; i <= ManyFenceChecks.MAX_CHECKS; i++) {
            tooMany.addChecks(IsCurrentHolderRequest.newBuilder().setName("n").setToken(i));
        }
        assertThatThrownBy(() -> stub.isCurrentHolderMany(tooMany.build()))
                .isInstanceOfSatisfying(
                        StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT))
                .hasMessageContaining("at most 10000 checks a call, not 10001");
    }

    @Test
    void aFollowerNamesTheLeaderInTheTrailers() {
        backend.submit = c -> CompletableFuture.failedFuture(new NotLeaderException("follower", "10.0.0.2:4653"));
        StatusRuntimeException e = callFails(Convert.toProto(RELEASE));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(e.getStatus().getDescription()).isEqualTo("not the leader");
        assertThat(e.getTrailers().get(GrpcErrors.LEADER)).isEqualTo("10.0.0.2:4653");
        assertThat(GrpcErrors.toException(e, "m1")).isInstanceOf(UnavailableException.class);
    }

    @Test
    void aFollowerThatDoesNotKnowTheLeaderSendsNoHint() {
        backend.submit = c -> CompletableFuture.failedFuture(new NotLeaderException("election", null));
        StatusRuntimeException e = callFails(Convert.toProto(RELEASE));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(e.getTrailers().get(GrpcErrors.LEADER)).isNull();
    }

    @Test
    void unavailabilityIsUnavailable() {
        backend.submit = c -> CompletableFuture.failedFuture(new UnavailableException("no quorum"));
        StatusRuntimeException e = callFails(Convert.toProto(RELEASE));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(e.getStatus().getDescription()).isEqualTo("no quorum");
    }

    @Test
    void aMalformedRequestIsAnInvalidArgumentAndNeverReachesTheBackend() {
        backend.submit = c -> {
            throw new AssertionError("must not be called");
        };
        StatusRuntimeException e = callFails(CommandRequest.getDefaultInstance());
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(e.getStatus().getDescription()).contains("no command");
        assertThat(GrpcErrors.toException(e, "m1"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("no command");
    }

    @Test
    void typedRefusalsFromTheBackendKeepTheirType() {
        backend.submit = c -> CompletableFuture.failedFuture(new io.holdfast.SessionExpiredException("gone"));
        StatusRuntimeException e = callFails(Convert.toProto(RELEASE));
        assertThat(GrpcErrors.toException(e, "m1"))
                .isInstanceOf(io.holdfast.SessionExpiredException.class)
                .hasMessage("gone");
    }

    @Test
    void backendBugsAreInternalErrorsAndTheServiceKeepsServing() {
        backend.submit = c -> {
            throw new IllegalStateException("boom");
        };
        StatusRuntimeException thrown = callFails(Convert.toProto(RELEASE));
        assertThat(thrown.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
        assertThat(thrown.getStatus().getDescription())
                .contains("IllegalStateException")
                .contains("boom");

        backend.submit = c -> CompletableFuture.failedFuture(new ArithmeticException("/ by zero"));
        assertThat(callFails(Convert.toProto(RELEASE)).getStatus().getDescription())
                .contains("/ by zero");

        backend.submit = c -> null;
        assertThat(callFails(Convert.toProto(RELEASE)).getStatus().getDescription())
                .contains("no future");

        backend.submit = c -> CompletableFuture.completedFuture(null); // a reply that cannot be encoded
        assertThat(callFails(Convert.toProto(RELEASE)).getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);

        backend.submit = c -> CompletableFuture.completedFuture(Reply.Busy.INSTANCE);
        assertThat(Convert.fromProto(stub.submit(Convert.toProto(RELEASE)))).isEqualTo(Reply.Busy.INSTANCE);
    }

    @Test
    void anEventStreamStartsThenCarriesEventsAndGapsInOrder() {
        Recorder stream = open(SESSION);
        await().until(() -> stream.messages.size() == 1);
        assertThat(stream.messages.get(0).hasStarted()).isTrue();
        LockServiceListenerAccess.listener(backend, SESSION).onEvent(new Event.Granted(SESSION, 3, "a", 11));
        LockServiceListenerAccess.listener(backend, SESSION).onGap();
        LockServiceListenerAccess.listener(backend, SESSION).onEvent(new Event.SessionExpired(SESSION));
        await().until(() -> stream.messages.size() == 4);
        assertThat(stream.messages.get(1).getGranted().getToken()).isEqualTo(11);
        assertThat(stream.messages.get(2).hasGap()).isTrue();
        assertThat(stream.messages.get(3).hasSessionExpired()).isTrue();
    }

    @Test
    void aNewerStreamReplacesTheOlderWhichIsCompletedAndItsCancelLeavesTheNewerAlone() {
        Recorder first = open(SESSION);
        await().until(() -> first.messages.size() == 1);
        Recorder second = open(SESSION);
        await().until(() -> first.completed && second.messages.size() == 1);
        first.cancel(); // late: must not unsubscribe the newer stream
        LockServiceListenerAccess.listener(backend, SESSION).onEvent(new Event.WaitTimedOut(SESSION, 4, "a"));
        await().until(() -> second.messages.size() == 2);
        assertThat(second.messages.get(1).hasWaitTimedOut()).isTrue();
        assertThat(first.messages).hasSize(1);
        assertThat(backend.log).doesNotContain("unsubscribe " + SESSION);
        assertThat(service.streamCount()).isEqualTo(1);
    }

    @Test
    void aCancelledStreamUnsubscribes() {
        Recorder stream = open(SESSION);
        await().until(() -> stream.messages.size() == 1);
        stream.cancel();
        await().until(() -> backend.log.contains("unsubscribe " + SESSION));
        assertThat(backend.listeners).isEmpty();
        assertThat(service.streamCount()).isZero();
    }

    @Test
    void aSubscriptionTheBackendRefusesEndsTheStreamWithItsStatus() {
        backend.subscribeFailure = new NotLeaderException("follower", "10.0.0.3:4653");
        Recorder stream = open(SESSION);
        await().until(() -> stream.error != null);
        StatusRuntimeException e = (StatusRuntimeException) stream.error;
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(e.getTrailers().get(GrpcErrors.LEADER)).isEqualTo("10.0.0.3:4653");
        assertThat(stream.messages).isEmpty();
    }

    @Test
    void aSubscriptionTheBackendEndsSendsTheClientToTheLeaderItNames() {
        Recorder stream = open(SESSION);
        await().until(() -> stream.messages.size() == 1);
        LockServiceListenerAccess.listener(backend, SESSION)
                .onEnd(new NotLeaderException("no longer the leader", "10.0.0.4:4653"));
        await().until(() -> stream.error != null);
        StatusRuntimeException e = (StatusRuntimeException) stream.error;
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(e.getTrailers().get(GrpcErrors.LEADER)).isEqualTo("10.0.0.4:4653");
        assertThat(service.streamCount()).isZero();
    }

    @Test
    void endingAllStreamsTellsClientsToReconnectAndUnsubscribes() {
        Recorder stream = open(SESSION);
        await().until(() -> stream.messages.size() == 1);
        service.endAllStreams();
        await().until(() -> stream.error != null);
        assertThat(Status.fromThrowable(stream.error).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(backend.listeners).isEmpty();
    }

    @Test
    void aStreamNeedsASessionId() {
        Recorder stream = open("");
        await().until(() -> stream.error != null);
        assertThat(Status.fromThrowable(stream.error).getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    }

    @Test
    void aTakenPortIsNamedInTheError() {
        try (ClientPort first = ClientPort.start("127.0.0.1", 0, backend)) {
            int port = first.port();
            assertThat(port).isPositive();
            assertThatThrownBy(() -> ClientPort.start("127.0.0.1", port, backend))
                    .isInstanceOf(java.io.UncheckedIOException.class)
                    .hasMessageContaining("port " + port + " is in use")
                    .hasCauseInstanceOf(java.net.BindException.class);
        }
    }

    private StatusRuntimeException callFails(CommandRequest request) {
        try {
            stub.withDeadlineAfter(Duration.ofSeconds(5)).submit(request);
        } catch (StatusRuntimeException e) {
            return e;
        }
        throw new AssertionError("the call succeeded");
    }

    private Recorder open(String session) {
        Recorder r = new Recorder();
        HoldfastGrpc.newStub(channel)
                .events(EventsRequest.newBuilder().setSessionId(session).build(), r);
        return r;
    }

    /** Records one stream's messages and end. */
    static final class Recorder implements ClientResponseObserver<EventsRequest, EventMessage> {
        final List<EventMessage> messages = new CopyOnWriteArrayList<>();
        volatile Throwable error;
        volatile boolean completed;
        private volatile ClientCallStreamObserver<EventsRequest> call;

        @Override
        public void beforeStart(ClientCallStreamObserver<EventsRequest> requestStream) {
            this.call = requestStream;
        }

        @Override
        public void onNext(EventMessage value) {
            messages.add(value);
        }

        @Override
        public void onError(Throwable t) {
            error = t;
        }

        @Override
        public void onCompleted() {
            completed = true;
        }

        void cancel() {
            call.cancel("test", null);
        }
    }
}
