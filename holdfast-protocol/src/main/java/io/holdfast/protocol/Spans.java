package io.holdfast.protocol;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.TracerProvider;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.util.concurrent.CompletableFuture;

/**
 * How the client and the server start, scope and end their OpenTelemetry spans: ended once, when
 * the operation's outcome is known, with status {@code ERROR} and the cause's message if it
 * failed. Without an SDK (the API's no-op tracer) and outside any trace, a span is the invalid
 * span: no builder is made, nothing is put in the context, no callback is added.
 */
public final class Spans {
    private static final Tracer NOOP = TracerProvider.noop().get("io.holdfast");

    /** The lock (or register, or watched name) a span is about. */
    public static final AttributeKey<String> LOCK = AttributeKey.stringKey("holdfast.lock");

    private Spans() {}

    /**
     * Whether a span from {@code tracer} would record nothing and carry no trace: the tracer is
     * the API's no-op and no valid span is current. Then the caller uses {@link Span#getInvalid()}.
     */
    public static boolean off(Tracer tracer) {
        return tracer == NOOP && !Span.current().getSpanContext().isValid();
    }

    /**
     * Starts a span of this kind, a child of the current one, about {@code lock} (null: none); the
     * invalid span when tracing is {@link #off}.
     */
    public static Span start(Tracer tracer, String name, SpanKind kind, String lock) {
        if (off(tracer)) {
            return Span.getInvalid();
        }
        var builder = tracer.spanBuilder(name).setSpanKind(kind);
        if (lock != null) {
            builder.setAttribute(LOCK, lock);
        }
        return builder.startSpan();
    }

    /** Starts a span inside {@code parent}; none (the invalid span) when the parent records nothing. */
    public static Span inside(Tracer tracer, Span parent, String name) {
        if (!parent.isRecording()) {
            return Span.getInvalid();
        }
        return tracer.spanBuilder(name)
                .setParent(Context.current().with(parent))
                .startSpan();
    }

    /** Makes the span current; for the invalid span, changes nothing. */
    public static Scope current(Span span) {
        return span == Span.getInvalid() ? Scope.noop() : span.makeCurrent();
    }

    /** Ends the span, as failed if {@code error} is not null. */
    public static void end(Span span, Throwable error) {
        if (error != null && span.isRecording()) {
            Throwable cause = GrpcErrors.unwrap(error);
            span.setStatus(
                    StatusCode.ERROR,
                    cause.getMessage() == null ? cause.getClass().getName() : cause.getMessage());
        }
        span.end();
    }

    /** Ends the span when the future completes; returns the same future (nothing added if the span records nothing). */
    public static <T> CompletableFuture<T> endWhenDone(Span span, CompletableFuture<T> future) {
        if (span.isRecording()) {
            future.whenComplete((value, error) -> end(span, error));
        }
        return future;
    }
}
