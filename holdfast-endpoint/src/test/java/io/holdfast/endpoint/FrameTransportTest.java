package io.holdfast.endpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.holdfast.endpoint.frame.FrameServer;
import io.holdfast.model.Command;
import io.holdfast.model.NotLeaderException;
import io.holdfast.model.Reply;
import io.holdfast.protocol.Convert;
import io.holdfast.protocol.GrpcErrors;
import io.holdfast.protocol.frame.FrameChannel;
import io.holdfast.protocol.frame.Frames;
import io.holdfast.protocol.v1.CommandRequest;
import io.holdfast.protocol.v1.EventMessage;
import io.holdfast.protocol.v1.EventsRequest;
import io.holdfast.protocol.v1.HoldfastGrpc;
import io.holdfast.protocol.v1.KeysRequest;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What the framed transport does beyond gRPC's calls: hostile bytes, deadlines, lost connections. */
class FrameTransportTest {
    private static final CommandRequest RELEASE =
            Convert.toProto(new Command.Release(new Command.Invocation("session-0123456789", 1, 1), "orders/42", 7));

    private final ScriptedLockService backend = new ScriptedLockService();
    private final HoldfastGrpcService service = new HoldfastGrpcService(backend);
    private FrameServer server;
    private FrameChannel channel;

    @BeforeEach
    void start() {
        server = FrameServer.start("127.0.0.1", 0, service.bindService(), a -> "frames-of-" + a, 1 << 20);
        channel = new FrameChannel("127.0.0.1", server.port(), 16 << 20);
    }

    @AfterEach
    void stop() {
        channel.shutdownNow();
        server.close();
    }

    private HoldfastGrpc.HoldfastBlockingStub stub() {
        return HoldfastGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
    }

    private void answers() {
        backend.submit = c -> CompletableFuture.completedFuture(Reply.Ok.INSTANCE);
        assertThat(Convert.fromProto(stub().submit(RELEASE))).isEqualTo(Reply.Ok.INSTANCE);
    }

    /** Sends raw bytes on a new connection; returns true if the server then closed it. */
    private boolean closedAfter(byte[] bytes) throws IOException {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(5_000);
            s.getOutputStream().write(bytes);
            s.getOutputStream().flush();
            return s.getInputStream().read() == -1;
        }
    }

    private static byte[] concat(byte[]... parts) {
        ByteBuffer b = ByteBuffer.allocate(
                java.util.Arrays.stream(parts).mapToInt(p -> p.length).sum());
        for (byte[] p : parts) {
            b.put(p);
        }
        return b.array();
    }

    @Test
    void bytesThatAreNoFramesCloseThatConnectionAndTheServerGoesOnServing() throws IOException {
        answers();
        assertThat(closedAfter("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII)))
                .isTrue();
        assertThat(closedAfter(concat(
                        Frames.PREFACE,
                        ByteBuffer.allocate(4).putInt(Integer.MAX_VALUE).array())))
                .as("a frame larger than the limit")
                .isTrue();
        assertThat(closedAfter(
                        concat(Frames.PREFACE, ByteBuffer.allocate(4).putInt(3).array())))
                .as("a frame shorter than its header")
                .isTrue();
        assertThat(closedAfter(concat(
                        Frames.PREFACE,
                        ByteBuffer.allocate(13)
                                .putInt(9)
                                .put((byte) 99)
                                .putLong(1)
                                .array())))
                .as("a frame of an unknown type")
                .isTrue();
        assertThat(closedAfter(concat(
                        Frames.PREFACE,
                        ByteBuffer.allocate(15)
                                .putInt(11)
                                .put(Frames.CALL)
                                .putLong(1)
                                .putShort((short) 500)
                                .array())))
                .as("a call whose method name runs past its frame")
                .isTrue();
        await().atMost(Duration.ofSeconds(5)).until(() -> server.connectionCount() == 1);
        answers();
    }

    @Test
    void anUnknownMethodOrABodyThatIsNoRequestIsAnsweredWithAStatusOnTheSameConnection() throws IOException {
        MethodDescriptor<CommandRequest, ?> unknown = HoldfastGrpc.getSubmitMethod().toBuilder()
                .setFullMethodName("holdfast.v1.Holdfast/NoSuchMethod")
                .build();
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(5_000);
            OutputStream out = s.getOutputStream();
            out.write(Frames.PREFACE);
            write(out, Frames.call(7, unknown, RELEASE));
            assertThat(readClose(s.getInputStream(), 7).getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);

            ByteBuffer garbage = Frames.call(8, HoldfastGrpc.getSubmitMethod(), RELEASE);
            garbage.put(garbage.limit() - 1, (byte) 0xff); // the request's last byte: no longer protobuf
            write(out, garbage);
            Status status = readClose(s.getInputStream(), 8);
            assertThat(status.getCode()).isIn(Status.Code.INVALID_ARGUMENT);
        }
        answers();
    }

    private static void write(OutputStream out, ByteBuffer frame) throws IOException {
        out.write(frame.array(), frame.position(), frame.remaining());
        out.flush();
    }

    private static Status readClose(InputStream raw, long call) throws IOException {
        DataInputStream in = new DataInputStream(raw);
        int length = in.readInt();
        assertThat(in.readByte()).isEqualTo(Frames.CLOSE);
        assertThat(in.readLong()).isEqualTo(call);
        byte[] body = new byte[length - 9];
        in.readFully(body);
        try {
            return Frames.status(ByteBuffer.wrap(body));
        } catch (Frames.FrameException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void anAnswerLargerThanTheClientAcceptsFailsThatCallAloneNamingTheLimit() throws Exception {
        answers();
        FrameChannel small = new FrameChannel("127.0.0.1", server.port(), 256);
        try {
            HoldfastGrpc.HoldfastBlockingStub stub =
                    HoldfastGrpc.newBlockingStub(small).withDeadlineAfter(5, TimeUnit.SECONDS);
            assertThat(Convert.fromProto(stub.submit(RELEASE))).isEqualTo(Reply.Ok.INSTANCE);
            CompletableFuture<Reply> later = new CompletableFuture<>();
            backend.submit = c -> later;
            var waiting = HoldfastGrpc.newFutureStub(small)
                    .withDeadlineAfter(10, TimeUnit.SECONDS)
                    .submit(RELEASE);
            // The scripted page's one key starts with the prefix: an answer of more than 256 bytes.
            KeysRequest large =
                    KeysRequest.newBuilder().setPrefix("p/" + "x".repeat(300)).build();
            assertThatThrownBy(() -> stub.keys(large)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                assertThat(GrpcErrors.toException(e, "n1"))
                        .isInstanceOf(io.holdfast.QuotaExceededException.class)
                        .hasMessageContaining("is more than this client accepts (256 bytes)");
            });
            assertThat(waiting.isDone())
                    .as("a call under way on the connection goes on")
                    .isFalse();
            later.complete(Reply.Ok.INSTANCE);
            assertThat(Convert.fromProto(waiting.get(5, TimeUnit.SECONDS)))
                    .as("and is answered on it")
                    .isEqualTo(Reply.Ok.INSTANCE);
            assertThat(stub.keys(KeysRequest.newBuilder().setPrefix("p/").build())
                            .getKeysCount())
                    .as("and a page that fits")
                    .isEqualTo(1);
        } finally {
            small.shutdownNow();
        }
    }

    @Test
    void aCallWithoutAnswerEndsAtItsDeadline() {
        backend.submit = c -> new CompletableFuture<>(); // never answers
        long start = System.nanoTime();
        assertThatThrownBy(() -> HoldfastGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(200, TimeUnit.MILLISECONDS)
                        .submit(RELEASE))
                .isInstanceOfSatisfying(
                        StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        answers(); // the channel still serves (on a new connection: nothing came back on the old one)
    }

    @Test
    void aCallStartedTheMomentAnotherTimesOutOnASilentConnectionGoesToANewConnection() throws Exception {
        backend.submit = c -> new CompletableFuture<>(); // never answers
        CompletableFuture<Throwable> retried = new CompletableFuture<>();
        // The retry is started inside the timed-out call's listener, which runs on the thread that
        // times it out: the narrowest window there is between the timeout and the drop.
        HoldfastGrpc.newStub(channel)
                .withDeadlineAfter(200, TimeUnit.MILLISECONDS)
                .submit(RELEASE, new StreamObserver<>() {
                    @Override
                    public void onNext(io.holdfast.protocol.v1.ReplyMessage value) {}

                    @Override
                    public void onError(Throwable t) {
                        if (Status.fromThrowable(t).getCode() != Status.Code.DEADLINE_EXCEEDED) {
                            retried.complete(t);
                            return;
                        }
                        backend.submit = c -> CompletableFuture.completedFuture(Reply.Ok.INSTANCE);
                        HoldfastGrpc.newStub(channel)
                                .withDeadlineAfter(5, TimeUnit.SECONDS)
                                .submit(RELEASE, endingIn(retried));
                    }

                    @Override
                    public void onCompleted() {
                        retried.complete(new AssertionError("the call that should time out was answered"));
                    }
                });
        assertThat(retried.get(10, TimeUnit.SECONDS)).as("the retry's error").isNull();
    }

    @Test
    void leaderHintsAreRewrittenForThisTransport() {
        backend.submit = c -> CompletableFuture.failedFuture(new NotLeaderException("follower", "10.0.0.2:4653"));
        assertThatThrownBy(() -> stub().submit(RELEASE)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
            assertThat(e.getTrailers().get(GrpcErrors.LEADER)).isEqualTo("frames-of-10.0.0.2:4653");
        });
    }

    @Test
    void aClientThatGoesAwayHasItsEventStreamCancelledAndItsSubscriptionDropped() {
        FrameChannel other = new FrameChannel("127.0.0.1", server.port(), 16 << 20);
        java.util.List<EventMessage> messages = new java.util.concurrent.CopyOnWriteArrayList<>();
        HoldfastGrpc.newStub(other)
                .events(EventsRequest.newBuilder().setSessionId("s-1").build(), new StreamObserver<>() {
                    @Override
                    public void onNext(EventMessage value) {
                        messages.add(value);
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {}
                });
        await().atMost(Duration.ofSeconds(5))
                .until(() -> messages.size() == 1 && messages.get(0).hasStarted());
        assertThat(backend.listeners).containsKey("s-1");
        other.shutdownNow(); // the connection closes without a cancel
        await().atMost(Duration.ofSeconds(5)).until(() -> backend.log.contains("unsubscribe s-1"));
        assertThat(service.streamCount()).isZero();
    }

    @Test
    void aClientThatStopsReadingIsCutOffAtItsLimitAndItsSubscriptionDropped() throws Exception {
        try (FrameServer small =
                        FrameServer.start("127.0.0.1", 0, service.bindService(), null, 1 << 20, 64 * 1024, null);
                Socket s = new Socket("127.0.0.1", small.port())) {
            s.setReceiveBufferSize(4 * 1024);
            OutputStream out = s.getOutputStream();
            out.write(Frames.PREFACE);
            write(
                    out,
                    Frames.call(
                            1,
                            HoldfastGrpc.getEventsMethod(),
                            EventsRequest.newBuilder().setSessionId("s-slow").build()));
            await().atMost(Duration.ofSeconds(5)).until(() -> backend.listeners.containsKey("s-slow"));
            // This client never reads: the socket's buffers fill, then the server's queue.
            io.holdfast.model.LockService.Listener listener = backend.listeners.get("s-slow");
            String name = "x".repeat(1_000);
            for (int i = 0; i < 20_000 && small.connectionCount() > 0; i++) {
                listener.onEvent(new io.holdfast.model.Event.WaitTimedOut("s-slow", i, name));
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> small.connectionCount() == 0);
            await().atMost(Duration.ofSeconds(5)).until(() -> backend.log.contains("unsubscribe s-slow"));
        }
        answers(); // the other server, and this test's client, are untouched
    }

    @Test
    void callsInFlightFailUnavailableWhenTheServerGoesAndTheNextCallConnectsAgain() throws Exception {
        answers();
        int port = server.port();
        backend.submit = c -> new CompletableFuture<>(); // never answers
        CompletableFuture<Throwable> failure = new CompletableFuture<>();
        HoldfastGrpc.newStub(channel).submit(RELEASE, endingIn(failure));
        await().atMost(Duration.ofSeconds(5)).until(() -> server.connectionCount() == 1);
        server.close();
        Throwable t = failure.get(5, TimeUnit.SECONDS);
        assertThat(Status.fromThrowable(t).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThatThrownBy(() -> stub().submit(RELEASE))
                .isInstanceOfSatisfying(
                        StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));

        server = FrameServer.start("127.0.0.1", port, service.bindService(), null, 1 << 20);
        answers();
    }

    // ------------------------------------------------------------ one port, two protocols

    private FrameServer splicingTo(InetSocketAddress others) {
        return FrameServer.start(
                "127.0.0.1",
                0,
                service.bindService(),
                UnaryOperator.identity(),
                1 << 20,
                FrameServer.MAX_QUEUED_BYTES,
                others);
    }

    @Test
    void aPlaintextClientPortAnswersGrpcAndFramesAlike() throws Exception {
        backend.submit = c -> CompletableFuture.completedFuture(Reply.Ok.INSTANCE);
        try (ClientPort both = ClientPort.start("127.0.0.1", 0, backend)) {
            ManagedChannel http2 = Grpc.newChannelBuilderForAddress(
                            "127.0.0.1", both.port(), InsecureChannelCredentials.create())
                    .build();
            FrameChannel frames = new FrameChannel("127.0.0.1", both.port(), 16 << 20);
            try {
                for (io.grpc.Channel c : new io.grpc.Channel[] {http2, frames, http2, frames}) {
                    assertThat(Convert.fromProto(HoldfastGrpc.newBlockingStub(c)
                                    .withDeadlineAfter(5, TimeUnit.SECONDS)
                                    .submit(RELEASE)))
                            .isEqualTo(Reply.Ok.INSTANCE);
                }
            } finally {
                http2.shutdownNow();
                frames.shutdownNow();
            }
        }
    }

    @Test
    void theSpliceCarriesBytesBothWaysInOrderAndPassesOnTheEndOfInput() throws Exception {
        try (ServerSocket echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread echoing = new Thread(() -> {
                try (Socket s = echo.accept()) {
                    s.getInputStream().transferTo(s.getOutputStream());
                } catch (IOException e) {
                    // the test fails on what it reads
                }
            });
            echoing.start();
            try (FrameServer spliced = splicingTo(new InetSocketAddress("127.0.0.1", echo.getLocalPort()));
                    Socket s = new Socket("127.0.0.1", spliced.port())) {
                s.setSoTimeout(10_000);
                // More than every buffer on the way, so that the splice must hold back its reads.
                byte[] sent = new byte[8 << 20];
                new java.util.Random(7).nextBytes(sent);
                sent[0] = 'P'; // not the start of the frames preface
                CompletableFuture<Void> writing = CompletableFuture.runAsync(() -> {
                    try {
                        s.getOutputStream().write(sent);
                        s.shutdownOutput();
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                byte[] received = s.getInputStream().readAllBytes(); // to the end the echo passes back
                writing.get(10, TimeUnit.SECONDS);
                assertThat(received).hasSize(sent.length);
                assertThat(java.util.Arrays.equals(received, sent)).isTrue();
                await().atMost(Duration.ofSeconds(5)).until(() -> spliced.connectionCount() == 0);
            }
            echoing.join(5_000);
        }
    }

    @Test
    void aConnectionThatCannotBeSplicedIsClosedAndFramesAreStillAnswered() throws Exception {
        int nothing;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            nothing = s.getLocalPort();
        }
        server.close();
        server = splicingTo(new InetSocketAddress("127.0.0.1", nothing));
        channel.shutdownNow();
        channel = new FrameChannel("127.0.0.1", server.port(), 16 << 20);
        byte[] http2 = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(5_000);
            s.getOutputStream().write(http2);
            int read;
            try {
                read = s.getInputStream().read();
            } catch (java.net.SocketException reset) {
                read = -1;
            }
            assertThat(read).isEqualTo(-1);
        }
        answers();
        await().atMost(Duration.ofSeconds(5)).until(() -> server.connectionCount() == 1);
    }

    // ------------------------------------------------------------ a server that falls silent

    @Test
    void aConnectionThatSentNothingSinceACallTimedOutIsDroppedAndTheNextCallReconnects() throws Exception {
        java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();
        java.util.List<Socket> held = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        held.add(silent.accept()); // reads nothing, answers nothing, never closes
                        accepted.incrementAndGet();
                    }
                } catch (IOException e) {
                    // the test is over
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            FrameChannel toSilent = new FrameChannel("127.0.0.1", silent.getLocalPort(), 16 << 20);
            try {
                for (int call = 1; call <= 2; call++) {
                    assertThatThrownBy(() -> HoldfastGrpc.newBlockingStub(toSilent)
                                    .withDeadlineAfter(200, TimeUnit.MILLISECONDS)
                                    .submit(RELEASE))
                            .isInstanceOfSatisfying(
                                    StatusRuntimeException.class,
                                    e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
                    int expected = call;
                    await().atMost(Duration.ofSeconds(5)).until(() -> accepted.get() == expected);
                }
            } finally {
                toSilent.shutdownNow();
                for (Socket s : held) {
                    s.close();
                }
            }
        }
    }

    @Test
    void aCallThatTimesOutOnAConnectionThatStillAnswersKeepsTheConnection() {
        backend.submit = c -> c instanceof Command.Release r && r.name().equals("slow/1")
                ? new CompletableFuture<>() // never answers
                : CompletableFuture.completedFuture(Reply.Ok.INSTANCE);
        java.util.List<Throwable> streamErrors = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.List<EventMessage> messages = new java.util.concurrent.CopyOnWriteArrayList<>();
        HoldfastGrpc.newStub(channel)
                .events(EventsRequest.newBuilder().setSessionId("s-2").build(), new StreamObserver<>() {
                    @Override
                    public void onNext(EventMessage value) {
                        messages.add(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        streamErrors.add(t);
                    }

                    @Override
                    public void onCompleted() {}
                });
        await().atMost(Duration.ofSeconds(5)).until(() -> messages.size() == 1);
        CommandRequest slow =
                Convert.toProto(new Command.Release(new Command.Invocation("session-0123456789", 2, 2), "slow/1", 7));
        CompletableFuture<Throwable> timedOut = new CompletableFuture<>();
        HoldfastGrpc.newStub(channel)
                .withDeadlineAfter(500, TimeUnit.MILLISECONDS)
                .submit(slow, endingIn(timedOut));
        // An answer arrives after the slow call was sent: the connection is alive.
        assertThat(Convert.fromProto(stub().submit(RELEASE))).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(Status.fromThrowable(timedOut.join()).getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        assertThat(Convert.fromProto(stub().submit(RELEASE))).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(streamErrors).as("the event stream on the same connection").isEmpty();
        assertThat(server.connectionCount()).isEqualTo(1);
    }

    /** An observer of a unary call that completes {@code end} with its error, or null on success. */
    private static StreamObserver<io.holdfast.protocol.v1.ReplyMessage> endingIn(CompletableFuture<Throwable> end) {
        return new StreamObserver<>() {
            @Override
            public void onNext(io.holdfast.protocol.v1.ReplyMessage value) {}

            @Override
            public void onError(Throwable t) {
                end.complete(t);
            }

            @Override
            public void onCompleted() {
                end.complete(null);
            }
        };
    }
}
