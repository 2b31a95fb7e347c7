package io.holdfast.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.holdfast.model.Reply;
import io.holdfast.protocol.frame.FrameChannel;
import io.holdfast.protocol.v1.HoldfastGrpc;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A request body that is not protobuf: refused, counted, and not a log line per request. */
class UnparsableRequestsTest {
    /** Field 1 as a length-delimited field whose length runs past the end: never valid protobuf. */
    private static final byte[] GARBAGE = {0x0a, 0x7f, 0x01};

    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    private final List<LogRecord> logged = new CopyOnWriteArrayList<>();
    private final Handler recorder = new Handler() {
        @Override
        public void publish(LogRecord record) {
            logged.add(record);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };
    private final Logger root = Logger.getLogger("");

    @BeforeEach
    void record() {
        root.addHandler(recorder);
    }

    @AfterEach
    void stopRecording() {
        root.removeHandler(recorder);
    }

    @Test
    void garbageOverGrpcIsInvalidArgumentCountedAndLoggedOncePerInterval() throws Exception {
        ScriptedLockService backend = new ScriptedLockService();
        List<Object> submitted = new CopyOnWriteArrayList<>();
        backend.submit = c -> {
            submitted.add(c);
            return CompletableFuture.completedFuture(Reply.Ok.INSTANCE);
        };
        MethodDescriptor<byte[], byte[]> rawSubmit = MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(HoldfastGrpc.getSubmitMethod().getFullMethodName())
                .setRequestMarshaller(BYTES)
                .setResponseMarshaller(BYTES)
                .build();
        try (ClientPort server = ClientPort.start("127.0.0.1", 0, backend)) {
            ManagedChannel grpc = Grpc.newChannelBuilderForAddress(
                            "127.0.0.1", server.port(), InsecureChannelCredentials.create())
                    .build();
            FrameChannel frames = new FrameChannel("127.0.0.1", server.port(), 16 << 20);
            try {
                for (int i = 0; i < 20; i++) {
                    for (io.grpc.Channel channel : new io.grpc.Channel[] {grpc, frames}) {
                        try {
                            ClientCalls.blockingUnaryCall(
                                    channel,
                                    rawSubmit,
                                    CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS),
                                    GARBAGE);
                            throw new AssertionError("garbage was accepted");
                        } catch (StatusRuntimeException e) {
                            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                            assertThat(e.getStatus().getDescription())
                                    .startsWith("the request is not a holdfast.v1.Holdfast/Submit message");
                        }
                    }
                }
                assertThat(submitted).as("the service saw none of them").isEmpty();
                assertThat(server.unparsableRequests()).isEqualTo(40);
            } finally {
                grpc.shutdownNow();
                frames.shutdownNow();
            }
        }
        assertThat(logged.stream().filter(r -> r.getLevel().intValue() >= Level.SEVERE.intValue()))
                .as("no SEVERE line (gRPC logs one with a stack trace per unparsable request)")
                .isEmpty();
        assertThat(logged.stream()
                        .filter(r -> r.getLoggerName().equals(UnparsableRequests.class.getName()))
                        .map(LogRecord::getMessage))
                .as("one line for the first minute")
                .singleElement()
                .asString()
                .startsWith("1 gRPC request(s) refused since the last such line")
                .contains("holdfast.v1.Holdfast/Submit");
    }

    @Test
    void aLineAnIntervalSaysHowManyWereRefusedSinceTheLast() {
        AtomicLong now = new AtomicLong(1_000);
        UnparsableRequests guard = new UnparsableRequests(now::get, 1, TimeUnit.MINUTES);
        MethodDescriptor<?, ?> submit = guard.guard(new HoldfastGrpcService(new ScriptedLockService()).bindService())
                .getMethod(HoldfastGrpc.getSubmitMethod().getFullMethodName())
                .getMethodDescriptor();
        for (int i = 0; i < 5; i++) {
            submit.parseRequest(new ByteArrayInputStream(GARBAGE));
        }
        now.addAndGet(TimeUnit.SECONDS.toNanos(61));
        submit.parseRequest(new ByteArrayInputStream(GARBAGE));
        submit.parseRequest(new ByteArrayInputStream(GARBAGE));

        assertThat(guard.count()).isEqualTo(7);
        assertThat(logged.stream()
                        .filter(r -> r.getLoggerName().equals(UnparsableRequests.class.getName()))
                        .map(r -> r.getMessage().substring(0, r.getMessage().indexOf(' '))))
                .as("the first at once, then the four that followed it and the fifth with the next line")
                .containsExactly("1", "5");
    }
}
