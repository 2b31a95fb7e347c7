package io.holdfast.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.holdfast.endpoint.frame.FrameServer;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import io.holdfast.protocol.Convert;
import io.holdfast.protocol.TraceHeaders;
import io.holdfast.protocol.frame.FrameChannel;
import io.holdfast.protocol.v1.CommandRequest;
import io.holdfast.protocol.v1.HoldfastGrpc;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A trace crosses the framed transport: the client's {@code traceparent} ({@link TraceHeaders})
 * reaches the server's interceptors as a header, as it does over gRPC, and a call made in no trace
 * sends no header at all.
 */
class TraceHeadersOverFramesTest {
    private static final CommandRequest RELEASE =
            Convert.toProto(new Command.Release(new Command.Invocation("session-0123456789", 1, 1), "orders/42", 7));
    private static final SpanContext CALLER = SpanContext.create(
            "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", TraceFlags.getSampled(), TraceState.getDefault());

    private final ScriptedLockService backend = new ScriptedLockService();
    /** The headers of the last call, as the server's interceptors saw them. */
    private final AtomicReference<Metadata> seen = new AtomicReference<>();

    private FrameServer server;
    private FrameChannel channel;

    @BeforeEach
    void start() {
        ServerInterceptor recorder = new ServerInterceptor() {
            @Override
            public <Q, A> ServerCall.Listener<Q> interceptCall(
                    ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
                seen.set(headers);
                return next.startCall(call, headers);
            }
        };
        server = FrameServer.start(
                "127.0.0.1",
                0,
                ServerInterceptors.intercept(new HoldfastGrpcService(backend), recorder),
                a -> "frames-of-" + a,
                1 << 20);
        channel = new FrameChannel("127.0.0.1", server.port(), 16 << 20);
        backend.submit = c -> CompletableFuture.completedFuture(Reply.Ok.INSTANCE);
    }

    @AfterEach
    void stop() {
        channel.shutdownNow();
        server.close();
    }

    private void call(Context trace) {
        HoldfastGrpc.newBlockingStub(TraceHeaders.carry(channel, trace))
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .submit(RELEASE);
    }

    @Test
    void theCallersTraceReachesTheServerInItsTraceparent() {
        Context trace;
        try (Scope ignored = Span.wrap(CALLER).makeCurrent()) {
            trace = TraceHeaders.current();
        }
        call(trace);

        assertThat(seen.get().get(Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER)))
                .isEqualTo("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        Context extracted = TraceHeaders.extract(Context.root(), seen.get());
        assertThat(Span.fromContext(extracted).getSpanContext().getSpanId()).isEqualTo(CALLER.getSpanId());
    }

    @Test
    void aCallInNoTraceSendsNoHeader() {
        assertThat(TraceHeaders.current()).isNull();
        call(TraceHeaders.current());

        assertThat(seen.get().keys()).isEmpty();
        assertThat(TraceHeaders.extract(Context.root(), seen.get())).isNull();
    }
}
