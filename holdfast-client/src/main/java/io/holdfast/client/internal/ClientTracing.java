package io.holdfast.client.internal;

import io.holdfast.protocol.Spans;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import java.util.concurrent.CompletableFuture;

/**
 * The client's OpenTelemetry spans: {@code holdfast.session.open}, {@code holdfast.acquire} (with
 * {@code holdfast.acquire.queued} for its time in the queue), {@code holdfast.release} and {@code
 * holdfast.watch.poll}, each a {@link SpanKind#CLIENT} span, a child of whatever span is current
 * where the application called. The calls they make carry the trace to the server in a W3C {@code
 * traceparent} ({@link io.holdfast.protocol.TraceHeaders}).
 *
 * <p><b>Guarantees.</b> The tracer is the one of {@link GlobalOpenTelemetry} when the client
 * opens (the application's SDK, or the agent's); without one it is the API's no-op, whose spans
 * record nothing and cost no allocation beyond the no-op's own, and the client sets no global.
 * A span is ended once, when its operation's outcome is known ({@link Spans}).
 */
final class ClientTracing {
    static final String INSTRUMENTATION = "io.holdfast.client";

    private final Tracer tracer;

    ClientTracing(Tracer tracer) {
        this.tracer = tracer;
    }

    /** The tracer of the application's global OpenTelemetry, or the no-op if it has set none. */
    static ClientTracing global() {
        return new ClientTracing(GlobalOpenTelemetry.getOrNoop().getTracer(INSTRUMENTATION));
    }

    /** Starts an operation's span, a child of the current one, naming the lock (or null). */
    Span start(String name, String lock) {
        return Spans.start(tracer, name, SpanKind.CLIENT, lock);
    }

    /** Starts a span inside {@code parent}; none (the invalid span) if the parent records nothing. */
    Span child(Span parent, String name) {
        return Spans.inside(tracer, parent, name);
    }

    /** Ends the span, as failed if {@code error} is not null ({@link Spans#end}). */
    static void end(Span span, Throwable error) {
        Spans.end(span, error);
    }

    /** Ends the span when the future completes ({@link Spans#endWhenDone}); returns the same future. */
    static <T> CompletableFuture<T> endWhenDone(Span span, CompletableFuture<T> future) {
        return Spans.endWhenDone(span, future);
    }
}
