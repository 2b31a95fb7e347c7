package io.holdfast.endpoint;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.holdfast.protocol.SpanName;
import io.holdfast.protocol.Spans;
import io.holdfast.protocol.TraceHeaders;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The server's OpenTelemetry spans, and the gRPC interceptor that puts a caller's trace (its W3C
 * {@code traceparent}, {@link TraceHeaders}) in force while the service handles the call, so that
 * the server's spans join the trace the client started.
 *
 * <p>Spans: a {@link SpanKind#SERVER} span per request, named by what it does ({@link
 * RequestSpan}: by the command it submits, or by the read it makes; every name is a {@link
 * SpanName}) over gRPC and HTTP alike, and inside it an internal {@code holdfast.commit} span from
 * the proposal of the command to its answer from the replicated table (made by the server module).
 * A session's heartbeats and its event stream are not traced.
 *
 * <p><b>Guarantees.</b> The tracer is the one of {@link GlobalOpenTelemetry} when this is made (an
 * SDK the operator plugs in, for example with the OpenTelemetry Java agent); without one it is the
 * API's no-op, and a call without a {@code traceparent} passes the interceptor untouched. A {@code
 * traceparent} that does not parse is ignored, never refused.
 */
public final class ServerTracing implements ServerInterceptor {
    /** The instrumentation scope of the server's spans. */
    public static final String INSTRUMENTATION = "io.holdfast.server";

    private final Tracer tracer;

    public ServerTracing(Tracer tracer) {
        this.tracer = tracer;
    }

    /** The tracer of the global OpenTelemetry as it is now, or the no-op if none is set. */
    public static ServerTracing global() {
        return new ServerTracing(GlobalOpenTelemetry.getOrNoop().getTracer(INSTRUMENTATION));
    }

    /** A request's span, a child of the current context (the caller's trace, if it sent one). */
    public Span startRequest(RequestSpan request) {
        return Spans.start(tracer, request.name().text(), SpanKind.SERVER, request.lock());
    }

    /** A span inside the current one; none (the invalid span) when the current span records nothing. */
    public Span startInside(SpanName name) {
        return startInside(Span.current(), name);
    }

    /** A span inside {@code parent}; none (the invalid span) when the parent records nothing. */
    public Span startInside(Span parent, SpanName name) {
        return Spans.inside(tracer, parent, name.text());
    }

    /**
     * Runs a request in its span (made current while {@code request} runs, so that what it proposes
     * is inside it), and ends the span with the request's outcome.
     */
    public <T> CompletableFuture<T> traced(RequestSpan span, Supplier<CompletableFuture<T>> request) {
        Span started = startRequest(span);
        try (Scope ignored = Spans.current(started)) {
            return Spans.endWhenDone(started, request.get());
        } catch (RuntimeException | Error e) {
            Spans.end(started, e);
            throw e;
        }
    }

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(
            ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        Context trace = TraceHeaders.extract(Context.current(), headers);
        if (trace == null) {
            return next.startCall(call, headers);
        }
        ServerCall.Listener<Q> listener;
        try (Scope ignored = trace.makeCurrent()) {
            listener = next.startCall(call, headers);
        }
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onMessage(Q message) {
                in(trace, () -> super.onMessage(message));
            }

            @Override
            public void onHalfClose() {
                in(trace, super::onHalfClose);
            }

            @Override
            public void onCancel() {
                in(trace, super::onCancel);
            }

            @Override
            public void onComplete() {
                in(trace, super::onComplete);
            }

            @Override
            public void onReady() {
                in(trace, super::onReady);
            }
        };
    }

    private static void in(Context trace, Runnable run) {
        try (Scope ignored = trace.makeCurrent()) {
            run.run();
        }
    }
}
