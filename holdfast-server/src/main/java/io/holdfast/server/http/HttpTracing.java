package io.holdfast.server.http;

import com.sun.net.httpserver.Headers;
import io.holdfast.endpoint.ServerTracing;
import io.holdfast.protocol.Spans;
import io.holdfast.server.http.HttpMessages.Answer;
import io.holdfast.server.http.HttpRoutes.Request;
import io.holdfast.server.http.HttpRoutes.Route;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The spans of the HTTP protocol's client routes ({@link HttpRoutes.Audience#CLIENT}): one {@code
 * SERVER} span per request, named as the same call over gRPC is ({@code holdfast.session.open},
 * {@code holdfast.acquire}, {@code holdfast.release}, {@code holdfast.watch.poll}, …), a child of
 * the trace the request's W3C {@code traceparent} header names, and in force while the route
 * submits its commands, so that their {@code holdfast.commit} spans are inside it.
 *
 * <p>A session's heartbeats ({@code keepAlive}) and its event stream are not traced: they are the
 * session's background, as over gRPC.
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

    /** Heartbeats and the event stream: a session's background, in no application's trace. */
    private static final java.util.Set<String> UNTRACED = java.util.Set.of("keepAlive", "sessionEvents");

    /** Span names by operation id: computed once each. */
    private static final Map<String, String> NAMES = new ConcurrentHashMap<>();

    private final ServerTracing tracing = ServerTracing.global();

    /** Runs a client route's request in its span, under the caller's trace if it names one. */
    CompletableFuture<Answer> handle(Route row, Request request, HttpRoutes.Handlers handlers) throws IOException {
        if (UNTRACED.contains(row.operationId())) {
            return row.handler().handle(handlers, request);
        }
        Headers headers = request.exchange().getRequestHeaders();
        Context trace = headers.containsKey("traceparent")
                ? W3CTraceContextPropagator.getInstance().extract(Context.current(), headers, GETTER)
                : Context.current();
        try (Scope ignored = trace.makeCurrent()) {
            Span span = tracing.startRequest(NAMES.computeIfAbsent(row.operationId(), HttpTracing::name), null);
            if (span.isRecording()) {
                span.setAttribute(METHOD, row.method());
                span.setAttribute(ROUTE, row.path());
            }
            try (Scope inSpan = Spans.current(span)) {
                return Spans.endWhenDone(span, row.handler().handle(handlers, request));
            } catch (IOException | RuntimeException e) {
                Spans.end(span, e);
                throw e;
            }
        }
    }

    /** The span name of an operation: the gRPC call's name where there is one. */
    private static String name(String operationId) {
        return switch (operationId) {
            case "openSession" -> "holdfast.session.open";
            case "closeSession", "endSession" -> "holdfast.session.close";
            case "acquire", "acquireAll" -> "holdfast.acquire";
            case "release" -> "holdfast.release";
            case "renew" -> "holdfast.renew";
            case "cancel" -> "holdfast.acquire.cancel";
            case "watch" -> "holdfast.watch.poll";
            case "setRegister" -> "holdfast.register.set";
            default -> "holdfast." + operationId;
        };
    }
}
