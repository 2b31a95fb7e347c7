package io.holdfast.server.http;

import com.sun.net.httpserver.Headers;
import io.holdfast.endpoint.RequestSpan;
import io.holdfast.endpoint.ServerTracing;
import io.holdfast.model.Command;
import io.holdfast.protocol.SpanName;
import io.holdfast.protocol.Spans;
import io.holdfast.server.http.HttpMessages.Answer;
import io.holdfast.server.http.HttpRoutes.Request;
import io.holdfast.server.http.HttpRoutes.Route;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.ContextKey;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/**
 * The spans of the HTTP port's requests: one {@code SERVER} span per request of a traced route
 * ({@link HttpRoutes.Route#traced}), named as the same call over gRPC is ({@link SpanName}: {@code
 * holdfast.session.open}, {@code holdfast.acquire}, {@code holdfast.key.list}, {@code
 * holdfast.watch.poll}, …), a child of the trace the request's W3C {@code traceparent} header
 * names, and in force while the route submits its commands, so that their {@code holdfast.commit}
 * spans are inside it.
 *
 * <p>The route table names each route's span: the read it makes, or the command it submits. A
 * route that submits a command tells this class so when it does ({@link #submitting}): the span
 * then carries that command's name and lock ({@link RequestSpan#of}, the rule of gRPC's {@code
 * Submit}), whatever the table said; the table's name is the span's until then (a request refused
 * before it is sent). The table does not trace a session's heartbeats ({@code keepAlive}) and its
 * event stream, as gRPC does not, nor the port's own routes (probes, metrics, who am I, a
 * backup's download).
 *
 * <p><b>Guarantees.</b> A request without a {@code traceparent}, or with one that does not parse,
 * is served as before (a new trace, if the server traces at all); it is never refused for it. The
 * span ends when the answer is ready (after the wait of a queued acquire).
 */
final class HttpTracing {
    private static final AttributeKey<String> METHOD = AttributeKey.stringKey("http.request.method");
    private static final AttributeKey<String> ROUTE = AttributeKey.stringKey("http.route");

    private static final TextMapGetter<Headers> GETTER = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Headers headers) {
            return headers.keySet();
        }

        @Override
        public String get(Headers headers, String key) {
            return headers == null ? null : headers.getFirst(key);
        }
    };

    /** The span of the HTTP request in force: the one {@link #submitting} names, and no other. */
    private static final ContextKey<Span> REQUEST = ContextKey.named("holdfast.http.request");

    private final ServerTracing tracing = ServerTracing.global();

    /** Runs a request of a traced route in its span, under the caller's trace if it names one. */
    CompletableFuture<Answer> handle(Route row, Request request, HttpRoutes.Handlers handlers) throws IOException {
        Headers headers = request.exchange().getRequestHeaders();
        Context trace = headers.containsKey("traceparent")
                ? W3CTraceContextPropagator.getInstance().extract(Context.current(), headers, GETTER)
                : Context.current();
        try (Scope ignored = trace.makeCurrent()) {
            Span span = tracing.startRequest(new RequestSpan(row.span(), null));
            if (span.isRecording()) {
                span.setAttribute(METHOD, row.method());
                span.setAttribute(ROUTE, row.path());
            }
            try (Scope inSpan = span.isRecording()
                    ? Context.current().with(span).with(REQUEST, span).makeCurrent()
                    : Spans.current(span)) {
                return Spans.endWhenDone(span, row.handler().handle(handlers, request));
            } catch (IOException | RuntimeException e) {
                Spans.end(span, e);
                throw e;
            }
        }
    }

    /**
     * Names the span of the HTTP request in force by the command the route is about to submit, and
     * sets the lock it is about: called on the request's thread, before the command is sent. Nothing
     * outside a traced HTTP request, or when its span records nothing (no SDK).
     */
    static void submitting(Command command) {
        Span span = Context.current().get(REQUEST);
        if (span == null || !span.isRecording()) {
            return;
        }
        RequestSpan named = RequestSpan.of(command);
        span.updateName(named.name().text());
        if (named.lock() != null) {
            span.setAttribute(Spans.LOCK, named.lock());
        }
    }
}
