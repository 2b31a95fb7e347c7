package io.holdfast.endpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.holdfast.endpoint.frame.FrameServer;
import io.holdfast.endpoint.frame.FrameWrites;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import io.holdfast.protocol.Convert;
import io.holdfast.protocol.frame.FrameChannel;
import io.holdfast.protocol.frame.Frames;
import io.holdfast.protocol.v1.CommandRequest;
import io.holdfast.protocol.v1.HoldfastGrpc;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Frames written together: the server's answers held by {@link FrameWrites} until the batch ends,
 * and the client's frames of concurrent calls left to whichever thread is writing.
 */
class FrameWritesTest {
    private static final CommandRequest RELEASE =
            Convert.toProto(new Command.Release(new Command.Invocation("session-0123456789", 1, 1), "orders/42", 7));

    private final ScriptedLockService backend = new ScriptedLockService();
    private final List<CompletableFuture<Reply>> later = new CopyOnWriteArrayList<>();
    private FrameServer server;

    @BeforeEach
    void start() {
        server = FrameServer.start(
                "127.0.0.1", 0, new HoldfastGrpcService(backend).bindService(), a -> "frames-of-" + a, 1 << 20);
        backend.submit = c -> {
            CompletableFuture<Reply> answer = new CompletableFuture<>();
            later.add(answer);
            return answer;
        };
    }

    @AfterEach
    void stop() {
        server.close();
    }

    /** A raw client with {@code calls} submits under way at the server. */
    private Socket callsUnderWay(int calls) throws IOException {
        Socket s = new Socket("127.0.0.1", server.port());
        s.setSoTimeout(5_000);
        OutputStream out = s.getOutputStream();
        out.write(Frames.PREFACE);
        for (int id = 1; id <= calls; id++) {
            ByteBuffer frame = Frames.call(id, HoldfastGrpc.getSubmitMethod(), RELEASE);
            out.write(frame.array(), frame.position(), frame.remaining());
        }
        out.flush();
        await().until(() -> later.size() == calls);
        return s;
    }

    /** True if nothing arrives on {@code s} within 200 ms (a byte or the end of input is something). */
    private static boolean silentFor200Millis(Socket s) {
        try {
            s.setSoTimeout(200);
            s.getInputStream().read();
            return false;
        } catch (SocketTimeoutException e) {
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            try {
                s.setSoTimeout(5_000);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Reads one unary answer (its message, then its close) and returns its call number and status. */
    private static long readAnswer(InputStream raw) throws IOException {
        DataInputStream in = new DataInputStream(raw);
        int length = in.readInt();
        assertThat(in.readByte()).as("a message first").isEqualTo(Frames.MESSAGE);
        long call = in.readLong();
        in.readFully(new byte[length - 9]);
        length = in.readInt();
        assertThat(in.readByte()).as("then its close").isEqualTo(Frames.CLOSE);
        assertThat(in.readLong()).isEqualTo(call);
        byte[] body = new byte[length - 9];
        in.readFully(body);
        try {
            assertThat(Frames.status(ByteBuffer.wrap(body)).getCode()).isEqualTo(Status.Code.OK);
        } catch (Frames.FrameException e) {
            throw new AssertionError(e);
        }
        return call;
    }

    @Test
    void answersSentTogetherLeaveAtTheBatchsEndAllOfThemInOrder() throws IOException {
        try (Socket s = callsUnderWay(8)) {
            boolean[] silent = new boolean[1];
            FrameWrites.together(() -> {
                later.forEach(answer -> answer.complete(Reply.Ok.INSTANCE));
                silent[0] = silentFor200Millis(s);
            });
            assertThat(silent[0])
                    .as("no answer left the server while the batch held them")
                    .isTrue();
            List<Long> answered = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                answered.add(readAnswer(s.getInputStream()));
            }
            assertThat(answered).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L);
        }
    }

    @Test
    void aBatchThatThrowsStillWritesWhatItSentAndTheExceptionGoesOn() throws IOException {
        try (Socket s = callsUnderWay(2)) {
            assertThatThrownBy(() -> FrameWrites.together(() -> {
                        later.get(0).complete(Reply.Ok.INSTANCE);
                        throw new IllegalStateException("planted");
                    }))
                    .hasMessage("planted");
            assertThat(readAnswer(s.getInputStream())).isEqualTo(1L);
            later.get(1).complete(Reply.Ok.INSTANCE);
            assertThat(readAnswer(s.getInputStream()))
                    .as("outside a batch an answer goes at once")
                    .isEqualTo(2L);
        }
    }

    @Test
    void everyFrameOfCallsStartedAtOnceReachesTheServer() throws Exception {
        backend.submit = c -> CompletableFuture.completedFuture(Reply.Ok.INSTANCE);
        FrameChannel channel = new FrameChannel("127.0.0.1", server.port(), 16 << 20);
        ExecutorService threads = Executors.newFixedThreadPool(32);
        try {
            HoldfastGrpc.HoldfastBlockingStub stub =
                    HoldfastGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
            assertThat(Convert.fromProto(stub.submit(RELEASE))).isEqualTo(Reply.Ok.INSTANCE);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < 32; t++) {
                done.add(threads.submit(() -> {
                    go.await();
                    int ok = 0;
                    for (int i = 0; i < 200; i++) {
                        if (Convert.fromProto(HoldfastGrpc.newBlockingStub(channel)
                                        .withDeadlineAfter(30, TimeUnit.SECONDS)
                                        .submit(RELEASE))
                                .equals(Reply.Ok.INSTANCE)) {
                            ok++;
                        }
                    }
                    return ok;
                }));
            }
            go.countDown();
            int ok = 0;
            for (Future<Integer> d : done) {
                ok += d.get(60, TimeUnit.SECONDS);
            }
            // A frame left to a writer that never wrote it would leave its call to its deadline.
            assertThat(ok).isEqualTo(32 * 200);
        } finally {
            threads.shutdownNow();
            channel.shutdownNow();
        }
    }

    @Test
    void deferredWorkRunsAtTheBatchsEndInOrderAndOutsideABatchIsRefused() {
        assertThat(FrameWrites.defer(() -> {})).as("outside a batch").isFalse();
        List<String> done = new ArrayList<>();
        assertThatThrownBy(() -> FrameWrites.together(() -> {
                    assertThat(FrameWrites.defer(() -> done.add("first"))).isTrue();
                    FrameWrites.defer(() -> {
                        done.add("second");
                        FrameWrites.defer(() -> done.add("deferred by the second"));
                        throw new IllegalStateException("planted");
                    });
                    FrameWrites.defer(() -> done.add("third"));
                    done.add("the batch's own work");
                }))
                .hasMessage("planted");
        assertThat(done).containsExactly("the batch's own work", "first", "second", "third", "deferred by the second");
    }

    @Test
    void theFramesOfOneReadAreHandledInOneBatchBeforeWhatTheyDeferred() throws IOException {
        List<String> events = new CopyOnWriteArrayList<>();
        backend.submit = c -> {
            events.add("call");
            if (!FrameWrites.defer(() -> events.add("deferred"))) {
                events.add("not in a batch");
            }
            return CompletableFuture.completedFuture(Reply.Ok.INSTANCE);
        };
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        bytes.write(Frames.PREFACE);
        for (int id = 1; id <= 6; id++) {
            ByteBuffer frame = Frames.call(id, HoldfastGrpc.getSubmitMethod(), RELEASE);
            bytes.write(frame.array(), frame.position(), frame.remaining());
        }
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(5_000);
            s.getOutputStream().write(bytes.toByteArray()); // one write: one read at the server
            List<Long> answered = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                answered.add(readAnswer(s.getInputStream()));
            }
            assertThat(answered).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
        }
        assertThat(events)
                .as("every call of the read handled before the first deferred work")
                .containsExactly(
                        "call",
                        "call",
                        "call",
                        "call",
                        "call",
                        "call",
                        "deferred",
                        "deferred",
                        "deferred",
                        "deferred",
                        "deferred",
                        "deferred");
    }
}
