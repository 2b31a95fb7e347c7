package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.Watch;
import io.holdfast.WatchTarget;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * OpenTelemetry over a real node (docs/operations.md, "Tracing"): an SDK with an in-memory exporter
 * is the global one, as an application's or the agent's would be, and the client and the node in
 * this JVM both report to it. One trace shows an application's wait for a lock on the client and
 * the commit on the server; a {@code traceparent} on the HTTP protocol puts the server's spans in
 * the caller's trace.
 */
class TracingTest {
    private static InMemorySpanExporter exporter;
    private static OpenTelemetrySdk sdk;
    private static TestCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        TestTracing tracing = TestTracing.install();
        exporter = tracing.exporter();
        sdk = tracing.sdk();
        cluster = new TestCluster(1, Set.of(), null, null, true);
        cluster.awaitLeader(Duration.ofSeconds(20));
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            cluster.close();
        } finally {
            sdk.close();
            GlobalOpenTelemetry.resetForTest();
        }
    }

    /**
     * The application's span holds the client's session open, acquire, release and watch poll;
     * the acquire holds its time in the queue (a second client held the lock first), and the
     * server's spans, with the commit of each command, are inside the client's, over frames (the
     * plaintext default) and over gRPC alike.
     */
    @ParameterizedTest
    @ValueSource(strings = {"", "?transport=grpc"})
    void oneTraceSpansTheClientsWaitAndTheServersCommit(String query) throws Exception {
        String lock = "traced/" + (query.isEmpty() ? "frames" : "grpc");
        LockClient holder = LockClient.open(cluster.uri(query), ClientOptions.defaults());
        Lease held = holder.lock(lock).acquire(Duration.ofSeconds(10));
        Tracer app = sdk.getTracer("the-application");
        Span work = app.spanBuilder("app.work").startSpan();
        String trace = work.getSpanContext().getTraceId();
        List<io.holdfast.WatchEvent> seen = new CopyOnWriteArrayList<>();
        try (Scope ignored = work.makeCurrent();
                LockClient waiter = LockClient.open(cluster.uri(query), ClientOptions.defaults());
                Watch watch = waiter.watch(WatchTarget.lock(lock), seen::add)) {
            CompletableFuture<Lease> waiting = waiter.lock(lock).acquireAsync(Duration.ofSeconds(20));
            // The server answered "queued" (its acquire span ended): now let the holder go.
            Awaitility.await()
                    .atMost(Duration.ofSeconds(20))
                    .until(() -> spans(trace).stream()
                            .anyMatch(s -> s.getName().equals("holdfast.acquire") && s.getKind() == SpanKind.SERVER));
            assertThat(waiting).isNotDone();
            held.release();
            Lease lease = waiting.get(20, TimeUnit.SECONDS);
            lease.release();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !seen.isEmpty());
        } finally {
            work.end();
            holder.close();
        }

        List<SpanData> spans = awaitSpans(
                trace,
                "holdfast.session.open",
                "holdfast.acquire",
                "holdfast.acquire.queued",
                "holdfast.commit",
                "holdfast.release",
                "holdfast.watch.poll");
        Map<String, SpanData> byId = byId(spans);
        SpanData acquire = one(spans, "holdfast.acquire", SpanKind.CLIENT);
        assertThat(acquire.getParentSpanId()).isEqualTo(work.getSpanContext().getSpanId());
        assertThat(acquire.getInstrumentationScopeInfo().getName()).isEqualTo("io.holdfast.client");
        SpanData queued = one(spans, "holdfast.acquire.queued", SpanKind.INTERNAL);
        assertThat(queued.getParentSpanId()).isEqualTo(acquire.getSpanId());
        SpanData served = one(spans, "holdfast.acquire", SpanKind.SERVER);
        assertThat(served.getInstrumentationScopeInfo().getName()).isEqualTo("io.holdfast.server");
        assertThat(isInside(served, acquire, byId))
                .as("the server's acquire is inside the client's")
                .isTrue();
        SpanData commit = spans.stream()
                .filter(s -> s.getName().equals("holdfast.commit")
                        && s.getParentSpanId().equals(served.getSpanId()))
                .findFirst()
                .orElseThrow();
        assertThat(isInside(commit, acquire, byId)).isTrue();
        // The wait went on after the server had answered "queued", until the grant.
        assertThat(queued.getEndEpochNanos()).isGreaterThan(served.getEndEpochNanos());
        assertThat(acquire.getEndEpochNanos()).isGreaterThanOrEqualTo(queued.getEndEpochNanos());
        for (String name : List.of("holdfast.session.open", "holdfast.release", "holdfast.watch.poll")) {
            SpanData client = spans.stream()
                    .filter(s -> s.getName().equals(name) && s.getKind() == SpanKind.CLIENT)
                    .findFirst()
                    .orElseThrow();
            assertThat(spans)
                    .as("a server span of " + name + " inside the client's")
                    .anyMatch(s ->
                            s.getName().equals(name) && s.getKind() == SpanKind.SERVER && isInside(s, client, byId));
        }
    }

    /** A {@code traceparent} on the HTTP protocol: the server's spans join that trace, a queued wait included. */
    @Test
    void anHttpRequestWithATraceparentYieldsServerSpansInThatTrace() throws Exception {
        String trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + cluster.node(0).httpPort();
        String parent = "00f067aa0ba902b7";
        String traceparent = "00-" + trace + "-" + parent + "-01";
        String first = sessionOf(http.send(post(base, "/api/v1/sessions", "{\"ttlMillis\":10000}", null), body()));
        String second =
                sessionOf(http.send(post(base, "/api/v1/sessions", "{\"ttlMillis\":10000}", traceparent), body()));
        var held = http.send(
                post(
                        base,
                        "/api/v1/acquire",
                        "{\"session\":\"" + first + "\",\"requestId\":1,\"name\":\"http/x\"}",
                        null),
                body());
        assertThat(held.statusCode()).as(held.body()).isEqualTo(200);
        CompletableFuture<HttpResponse<String>> waiting = http.sendAsync(
                post(
                        base,
                        "/api/v1/acquire",
                        "{\"session\":\"" + second + "\",\"requestId\":1,\"name\":\"http/x\",\"waitMillis\":20000}",
                        traceparent),
                body());
        // The acquire was committed (and answered "queued" inside the node): let the holder go.
        Awaitility.await()
                .atMost(Duration.ofSeconds(20))
                .until(() -> spans(trace).stream()
                                .filter(s -> s.getName().equals("holdfast.commit"))
                                .count()
                        >= 2);
        var released = http.send(
                post(
                        base,
                        "/api/v1/release",
                        "{\"session\":\"" + first + "\",\"requestId\":2,\"name\":\"http/x\",\"token\":"
                                + held.body().replaceAll(".*\"token\":(\\d+).*", "$1") + "}",
                        null),
                body());
        assertThat(released.statusCode()).as(released.body()).isEqualTo(200);
        assertThat(waiting.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(200);

        List<SpanData> spans = awaitSpans(
                trace, "holdfast.session.open", "holdfast.acquire", "holdfast.acquire.queued", "holdfast.commit");
        Map<String, SpanData> byId = byId(spans);
        SpanData open = one(spans, "holdfast.session.open", SpanKind.SERVER);
        assertThat(open.getParentSpanId()).isEqualTo(parent);
        assertThat(open.getAttributes().asMap().toString()).contains("/api/v1/sessions");
        SpanData acquire = one(spans, "holdfast.acquire", SpanKind.SERVER);
        assertThat(acquire.getParentSpanId()).isEqualTo(parent);
        SpanData queued = one(spans, "holdfast.acquire.queued", SpanKind.INTERNAL);
        assertThat(queued.getParentSpanId()).isEqualTo(acquire.getSpanId());
        assertThat(spans).anyMatch(s -> s.getName().equals("holdfast.commit") && isInside(s, acquire, byId));
        assertThat(spans)
                .as("requests without a traceparent are in traces of their own")
                .noneMatch(s -> s.getName().equals("holdfast.release"));
    }

    private static HttpRequest post(String base, String path, String json, String traceparent) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json));
        return (traceparent == null ? b : b.header("traceparent", traceparent)).build();
    }

    private static HttpResponse.BodyHandler<String> body() {
        return HttpResponse.BodyHandlers.ofString();
    }

    private static String sessionOf(HttpResponse<String> opened) {
        assertThat(opened.statusCode()).as(opened.body()).isEqualTo(201);
        return opened.body().replaceAll(".*\"sessionId\":\"([^\"]+)\".*", "$1");
    }

    private static List<SpanData> spans(String trace) {
        return exporter.getFinishedSpanItems().stream()
                .filter(s -> s.getTraceId().equals(trace))
                .toList();
    }

    /** The trace's spans, once one of each name has ended. */
    private static List<SpanData> awaitSpans(String trace, String... names) {
        Awaitility.await()
                .atMost(Duration.ofSeconds(10))
                .untilAsserted(() ->
                        assertThat(spans(trace).stream().map(SpanData::getName)).contains(names));
        return spans(trace);
    }

    private static Map<String, SpanData> byId(List<SpanData> spans) {
        return spans.stream().collect(Collectors.toMap(SpanData::getSpanId, Function.identity()));
    }

    private static SpanData one(List<SpanData> spans, String name, SpanKind kind) {
        List<SpanData> found = spans.stream()
                .filter(s -> s.getName().equals(name) && s.getKind() == kind)
                .toList();
        assertThat(found).as(kind + " " + name).hasSize(1);
        return found.get(0);
    }

    /** Whether {@code span} descends from {@code ancestor}, by its parents among the exported spans. */
    private static boolean isInside(SpanData span, SpanData ancestor, Map<String, SpanData> byId) {
        for (SpanData s = span; s != null; s = byId.get(s.getParentSpanId())) {
            if (s.getParentSpanId().equals(ancestor.getSpanId())) {
                return true;
            }
        }
        return false;
    }
}
