package io.holdfast.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.holdfast.LockMode;
import io.holdfast.WatchTarget;
import io.holdfast.model.ChangePosition;
import io.holdfast.model.Command;
import io.holdfast.model.Command.Invocation;
import io.holdfast.model.CounterAdd;
import io.holdfast.model.KeyDelete;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.SessionIds;
import io.holdfast.model.Transaction;
import io.holdfast.protocol.Convert;
import io.holdfast.protocol.Spans;
import io.holdfast.protocol.v1.ChangeMembersRequest;
import io.holdfast.protocol.v1.CommandRequest;
import io.holdfast.protocol.v1.DescribeRequest;
import io.holdfast.protocol.v1.EventsRequest;
import io.holdfast.protocol.v1.HoldfastGrpc;
import io.holdfast.protocol.v1.IsCurrentHolderRequest;
import io.holdfast.protocol.v1.KeepAliveRequest;
import io.holdfast.protocol.v1.ListRequest;
import io.holdfast.protocol.v1.MembersRequest;
import io.holdfast.protocol.v1.ReadRegisterRequest;
import io.holdfast.protocol.v1.SessionsRequest;
import io.holdfast.server.TestCluster;
import io.holdfast.server.TestTracing;
import io.holdfast.server.http.HttpRoutes.Route;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One tracing rule for both transports: the span name of every route of the HTTP port's table and
 * of every gRPC call (every kind of command {@code Submit} takes among them), pinned in one table,
 * {@link #OPERATIONS}, whose rows hold an operation's name and the HTTP routes and gRPC calls that
 * do it. So the same operation has the same span name over either transport, or no span over
 * either; a route or a call added without its row fails {@link #theTableHoldsEveryRouteAndEveryCall}.
 *
 * <p>Each request carries a {@code traceparent} of its own, and the node's {@code SERVER} spans of
 * that trace are read from an in-memory exporter (the global SDK, as {@code TracingTest} has it). A
 * route that submits a command is asked twice over HTTP: a request the node sends (its span named
 * by the command, as gRPC's {@code Submit} names it) and one refused before anything is sent (its
 * span named by the route table alone): both must carry the row's name.
 */
class SpanNamesTest {
    /** No span, over either transport. */
    private static final String UNTRACED = "(untraced)";

    /** Every operation: its span name, and the HTTP routes (operation ids) and gRPC calls that do it. */
    private static final List<Operation> OPERATIONS = List.of(
            op("holdfast.session.open", http("openSession"), grpc("Submit/OPEN_SESSION")),
            op(
                    "holdfast.session.close",
                    http("closeSession", "endSession"),
                    grpc("Submit/CLOSE_SESSION", "Submit/END_SESSION")),
            op("holdfast.acquire", http("acquire", "acquireAll"), grpc("Submit/ACQUIRE", "Submit/ACQUIRE_ALL")),
            op("holdfast.release", http("release"), grpc("Submit/RELEASE")),
            op("holdfast.renew", http("renew"), grpc("Submit/RENEW")),
            op("holdfast.acquire.cancel", http("cancel"), grpc("Submit/CANCEL_WAIT")),
            op("holdfast.register.set", http("setRegister"), grpc("Submit/REGISTER_SET", "Submit/LEASED_REGISTER_SET")),
            op("holdfast.key.delete", http("deleteKey"), grpc("Submit/KEY_DELETE")),
            op("holdfast.key.delete.prefix", http("deleteKeyPrefix"), grpc("Submit/KEY_DELETE_PREFIX")),
            op("holdfast.key.add", http("addCounter"), grpc("Submit/COUNTER_ADD")),
            // The HTTP put is sent as a transaction of that one put (HttpKeyRoutes).
            op("holdfast.key.txn", http("putKey", "txn"), grpc("Submit/TRANSACTION")),
            op("holdfast.lock.revoke", http("revoke"), grpc("Submit/REVOKE")),
            op("holdfast.access.set", http(), grpc("Submit/SET_ACCESS_RULES")),
            op("holdfast.token.revoke", http(), grpc("Submit/REVOKE_TOKEN")),
            op("holdfast.lock.describe", http("getLock"), grpc("Describe")),
            op("holdfast.lock.list", http("listLocks"), grpc("List")),
            op("holdfast.fence.check", http("fence"), grpc("IsCurrentHolder", "IsCurrentHolderMany")),
            op("holdfast.register.read", http("readRegister"), grpc("ReadRegister")),
            // A key's GET reads a page of one key, as the Java client's get does over Keys.
            op("holdfast.key.list", http("getKey", "listKeys"), grpc("Keys")),
            op("holdfast.session.list", http("listSessions"), grpc("Sessions")),
            op("holdfast.member.list", http("clusterStatus"), grpc("Members")),
            op(
                    "holdfast.member.change",
                    http("addMember", "removeMember", "promoteMember", "transferLeader"),
                    grpc("ChangeMembers")),
            op("holdfast.election.list", http("listElections"), grpc()),
            op("holdfast.election.describe", http("getElection"), grpc()),
            op("holdfast.watch.poll", http("watch"), grpc("Watch")),
            // A session's background, and the port's own routes.
            op(
                    UNTRACED,
                    http(
                            "keepAlive",
                            "sessionEvents",
                            "health",
                            "ready",
                            "nodeStatus",
                            "digest",
                            "metrics",
                            "whoami",
                            "takeBackup"),
                    grpc("KeepAlive", "KeepAliveMany", "Events")));

    private static final String PARENT = "00f067aa0ba902b7";
    private static final AtomicLong TRACES = new AtomicLong();

    private static InMemorySpanExporter exporter;
    private static OpenTelemetrySdk sdk;
    private static TestCluster cluster;
    private static ManagedChannel channel;
    private static HttpClient http;
    private static String base;

    @BeforeAll
    static void start() throws Exception {
        TestTracing tracing = TestTracing.install();
        exporter = tracing.exporter();
        sdk = tracing.sdk();
        cluster = new TestCluster(1, Set.of(), null, null, true);
        int leader = cluster.awaitLeader(Duration.ofSeconds(20));
        channel = NettyChannelBuilder.forAddress(
                        "127.0.0.1", cluster.node(leader).clientPort())
                .usePlaintext()
                .build();
        http = HttpClient.newHttpClient();
        base = "http://127.0.0.1:" + cluster.node(leader).httpPort();
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            channel.shutdownNow();
            cluster.close();
        } finally {
            sdk.close();
            GlobalOpenTelemetry.resetForTest();
        }
    }

    @Test
    void theTableHoldsEveryRouteAndEveryCall() {
        assertThat(OPERATIONS.stream().flatMap(o -> o.http().stream()))
                .as("the routes of HttpRoutes.TABLE")
                .doesNotHaveDuplicates()
                .containsExactlyInAnyOrderElementsOf(
                        HttpRoutes.TABLE.stream().map(Route::operationId).toList());
        assertThat(OPERATIONS.stream().flatMap(o -> o.grpc().stream()))
                .as("the service's calls, and Submit by the kind of its command")
                .doesNotHaveDuplicates()
                .containsExactlyInAnyOrderElementsOf(grpcCalls());
        assertThat(OPERATIONS.stream().map(Operation::span)).doesNotHaveDuplicates();
    }

    /** Every route of the table, asked with a traceparent: its span, named as its row says, or none. */
    @Test
    void everyRouteOfTheTableMakesTheSpanOfItsOperation() throws Exception {
        String session = openSession();
        String toEnd = openSession();
        String toClose = openSession();
        Map<String, String> traces = new LinkedHashMap<>(); // trace -> what it asked
        Map<String, String> expected = new LinkedHashMap<>(); // trace -> span name
        for (Route row : HttpRoutes.TABLE) {
            String name = spanOf(row.operationId(), o -> o.http().contains(row.operationId()));
            String trace = newTrace();
            HttpResponse<String> answer = http.send(request(row, session, toEnd, toClose, trace, false), body());
            assertThat(answer.statusCode()).as(row.operationId()).isLessThan(500);
            traces.put(trace, row.method() + " " + row.path());
            expected.put(trace, name);
            if (row.traced() && !row.method().equals("GET")) {
                String refused = newTrace();
                HttpResponse<String> bad = http.send(request(row, session, toEnd, toClose, refused, true), body());
                assertThat(bad.statusCode())
                        .as(row.operationId() + " refused before it is sent: " + bad.body())
                        .isEqualTo(400);
                traces.put(refused, row.method() + " " + row.path() + " (refused)");
                expected.put(refused, name);
            }
        }
        assertSpans(traces, expected);
        // The command's lock too, as over gRPC: the acquire's span is about the lock it took.
        String acquired = traces.entrySet().stream()
                .filter(e -> e.getValue().equals("POST /api/v1/acquire"))
                .findFirst()
                .orElseThrow()
                .getKey();
        assertThat(exporter.getFinishedSpanItems().stream()
                        .filter(sp -> sp.getTraceId().equals(acquired) && sp.getKind() == SpanKind.SERVER)
                        .map(sp -> sp.getAttributes().get(Spans.LOCK)))
                .containsExactly("spans/a");
    }

    /** Every call of the gRPC service, and Submit with every kind of command: its span, or none. */
    @Test
    void everyGrpcCallMakesTheSpanOfItsOperation() {
        HoldfastGrpc.HoldfastBlockingStub stub = HoldfastGrpc.newBlockingStub(channel);
        String session = SessionIds.newId();
        String toEnd = SessionIds.newId();
        AtomicLong seq = new AtomicLong();
        Map<String, Consumer<HoldfastGrpc.HoldfastBlockingStub>> calls = new LinkedHashMap<>();
        for (Command c : commands(session, toEnd, seq)) {
            CommandRequest request = Convert.toProto(c);
            calls.put("Submit/" + request.getKindCase(), s -> s.submit(request));
        }
        calls.put(
                "KeepAlive",
                s -> s.keepAlive(
                        KeepAliveRequest.newBuilder().setSessionId(session).build()));
        calls.put(
                "KeepAliveMany",
                s -> s.keepAliveMany(io.holdfast.protocol.v1.KeepAliveManyRequest.newBuilder()
                        .addSessionIds(session)
                        .build()));
        calls.put("Events", s -> firstEvent(s, session));
        calls.put(
                "Describe",
                s -> s.describe(DescribeRequest.newBuilder().setName("grpc/a").build()));
        calls.put(
                "List",
                s -> s.list(
                        ListRequest.newBuilder().setPrefix("grpc/").setLimit(10).build()));
        calls.put(
                "IsCurrentHolder",
                s -> s.isCurrentHolder(IsCurrentHolderRequest.newBuilder()
                        .setName("grpc/a")
                        .setToken(1)
                        .build()));
        calls.put(
                "IsCurrentHolderMany",
                s -> s.isCurrentHolderMany(io.holdfast.protocol.v1.IsCurrentHolderManyRequest.newBuilder()
                        .addChecks(IsCurrentHolderRequest.newBuilder()
                                .setName("grpc/a")
                                .setToken(1))
                        .build()));
        calls.put(
                "ReadRegister",
                s -> s.readRegister(
                        ReadRegisterRequest.newBuilder().setKey("grpc/r").build()));
        calls.put("Keys", s -> s.keys(Convert.keysRequest("grpc/", "", 10)));
        calls.put("Watch", s -> s.watch(Convert.toProto(WatchTarget.lock("grpc/a"), ChangePosition.START, 0)));
        calls.put(
                "Sessions",
                s -> s.sessions(SessionsRequest.newBuilder().setLimit(10).build()));
        calls.put("Members", s -> s.members(MembersRequest.getDefaultInstance()));
        // No change in it: refused inside its span, and the members stay as they are.
        calls.put("ChangeMembers", s -> s.changeMembers(ChangeMembersRequest.getDefaultInstance()));
        assertThat(calls.keySet()).containsExactlyInAnyOrderElementsOf(grpcCalls());

        Map<String, String> traces = new LinkedHashMap<>();
        Map<String, String> expected = new LinkedHashMap<>();
        calls.forEach((call, send) -> {
            String trace = newTrace();
            Metadata headers = new Metadata();
            headers.put(Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER), traceparent(trace));
            try {
                send.accept(stub.withDeadlineAfter(10, TimeUnit.SECONDS)
                        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers)));
            } catch (StatusRuntimeException refused) {
                // A refusal is answered in the call's span too.
            }
            traces.put(trace, call);
            expected.put(trace, spanOf(call, o -> o.grpc().contains(call)));
        });
        assertSpans(traces, expected);
    }

    /**
     * Each trace holds one {@code SERVER} span of the expected name, or none for an untraced one.
     * The traced ones are awaited first: every request has been answered by then, so an untraced
     * request's span, had it made one, would have ended too.
     */
    private static void assertSpans(Map<String, String> traces, Map<String, String> expected) {
        Awaitility.await()
                .atMost(Duration.ofSeconds(20))
                .untilAsserted(() -> expected.forEach((trace, name) -> {
                    if (!name.equals(UNTRACED)) {
                        assertThat(serverSpans(trace)).as(traces.get(trace)).isNotEmpty();
                    }
                }));
        List<String> wrong = new ArrayList<>();
        expected.forEach((trace, name) -> {
            List<String> made = serverSpans(trace);
            List<String> want = name.equals(UNTRACED) ? List.of() : List.of(name);
            if (!made.equals(want)) {
                wrong.add(traces.get(trace) + ": " + made + ", expected " + want);
            }
        });
        assertThat(wrong)
                .as("requests whose server spans are not their operation's")
                .isEmpty();
    }

    private static List<String> serverSpans(String trace) {
        return exporter.getFinishedSpanItems().stream()
                .filter(s -> s.getTraceId().equals(trace) && s.getKind() == SpanKind.SERVER)
                .map(SpanData::getName)
                .toList();
    }

    /** A sample of every command a client can send, for Submit. */
    private static List<Command> commands(String session, String toEnd, AtomicLong seq) {
        byte[] one = {1};
        return List.of(
                new Command.OpenSession(session, "spans-grpc", 10_000, 0),
                new Command.OpenSession(toEnd, "spans-grpc-end", 10_000, 0),
                new Command.Acquire(inv(session, seq), "grpc/a", LockMode.EXCLUSIVE, 1, 1, 0, 0, 0),
                new Command.AcquireAll(inv(session, seq), List.of("grpc/b", "grpc/c"), LockMode.SHARED, 0, 0, 0),
                new Command.Release(inv(session, seq), "grpc/b", 1),
                new Command.Renew(inv(session, seq), "grpc/c", 1),
                new Command.CancelWait(inv(session, seq), "grpc/a", 1),
                RegisterSet.keeping(inv(session, seq), "grpc/r", 0, one, null, 0),
                new RegisterSet(inv(session, seq), "grpc/l", 0, one, null, 0, true, false, 60_000),
                new KeyDelete(inv(session, seq), "grpc/l", KeyDelete.ANY_VERSION),
                new CounterAdd(inv(session, seq), "grpc/n", 1),
                new io.holdfast.model.KeyDeletePrefix(inv(session, seq), "grpc/none/", 10),
                new Transaction(inv(session, seq), List.of(), List.of(new Transaction.Op.Get("grpc/n")), List.of()),
                new Command.Revoke("grpc/none"),
                new Command.SetAccessRules(null),
                new Command.RevokeToken("spans-test-jti", 60_000),
                new Command.EndSession(toEnd),
                new Command.CloseSession(inv(session, seq)));
    }

    private static Invocation inv(String session, AtomicLong seq) {
        return new Invocation(session, seq.incrementAndGet(), 0);
    }

    /** Opens the session's event stream, reads its first message, and cancels the call. */
    private static void firstEvent(HoldfastGrpc.HoldfastBlockingStub stub, String session) {
        try (Context.CancellableContext call = Context.current().withCancellation()) {
            call.run(() -> stub.events(
                            EventsRequest.newBuilder().setSessionId(session).build())
                    .next());
        }
    }

    /** The gRPC service's calls by name, with Submit named once per kind of command it takes. */
    private static List<String> grpcCalls() {
        List<String> calls = new ArrayList<>();
        for (MethodDescriptor<?, ?> m : HoldfastGrpc.getServiceDescriptor().getMethods().stream()
                .map(m -> (MethodDescriptor<?, ?>) m)
                .toList()) {
            if (m.getBareMethodName().equals("Submit")) {
                Arrays.stream(CommandRequest.KindCase.values())
                        .filter(k -> k != CommandRequest.KindCase.KIND_NOT_SET)
                        .forEach(k -> calls.add("Submit/" + k));
            } else {
                calls.add(m.getBareMethodName());
            }
        }
        return calls;
    }

    /**
     * A request of the route; with {@code refused}, one the route refuses before it sends anything
     * (a body that is not a JSON object, a request id that is not a number).
     */
    private static HttpRequest request(
            Route row, String session, String toEnd, String toClose, String trace, boolean refused) {
        String path = row.path()
                .replace("{name*}", "spans/a")
                .replace("{key*}", row.operationId().equals("getKey") ? "spans/n" : "spans/r")
                .replace(
                        "{id}",
                        row.operationId().equals("endSession")
                                ? toEnd
                                : row.operationId().equals("closeSession") ? toClose : session);
        String query = switch (row.operationId()) {
            case "listLocks", "listKeys" -> "?prefix=spans/";
            case "sessionEvents" -> "?waitMillis=0";
            case "fence" -> "?name=spans/a&token=1";
            case "watch" -> "?lock=spans/a&waitMillis=0";
            case "closeSession" -> refused ? "?requestId=one" : "";
            default -> "";
        };
        String body = refused ? "[]" : body(row.operationId(), session);
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path + query))
                .timeout(Duration.ofSeconds(30))
                .header("traceparent", traceparent(trace));
        return switch (row.method()) {
            case "GET" -> b.GET().build();
            case "DELETE" -> b.DELETE().build();
            default ->
                b.header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build();
        };
    }

    /** The body of a request the route sends on (or answers, for the member changes: with a refusal). */
    private static String body(String operationId, String session) {
        String s = "\"session\":\"" + session + "\"";
        return switch (operationId) {
            case "openSession" -> "{\"ttlMillis\":10000}";
            case "acquire" -> "{" + s + ",\"requestId\":1,\"name\":\"spans/a\"}";
            case "acquireAll" -> "{" + s + ",\"requestId\":2,\"names\":[\"spans/b\",\"spans/c\"]}";
            case "release" -> "{" + s + ",\"requestId\":3,\"name\":\"spans/b\",\"token\":1}";
            case "renew" -> "{" + s + ",\"requestId\":4,\"name\":\"spans/c\",\"token\":1}";
            case "cancel" -> "{" + s + ",\"requestId\":5,\"name\":\"spans/a\",\"waitRequestId\":1}";
            case "setRegister" ->
                "{" + s + ",\"requestId\":6,\"key\":\"spans/r\",\"expectedVersion\":0,\"value\":\"AQ==\"}";
            case "putKey" -> "{" + s + ",\"requestId\":7,\"key\":\"spans/k\",\"value\":\"AQ==\"}";
            case "deleteKey" -> "{" + s + ",\"requestId\":8,\"key\":\"spans/k\"}";
            case "addCounter" -> "{" + s + ",\"requestId\":9,\"key\":\"spans/n\",\"delta\":1}";
            case "deleteKeyPrefix" -> "{" + s + ",\"requestId\":11,\"prefix\":\"spans/none/\"}";
            case "txn" -> "{" + s + ",\"requestId\":10,\"then\":[{\"type\":\"get\",\"key\":\"spans/n\"}]}";
            case "revoke" -> "{\"name\":\"spans/revoked\"}";
            case "transferLeader" -> "{\"id\":\"no-such-member\"}";
            default -> "{}";
        };
    }

    private static String openSession() throws Exception {
        HttpResponse<String> opened = http.send(
                HttpRequest.newBuilder(URI.create(base + "/api/v1/sessions"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"ttlMillis\":60000}"))
                        .build(),
                body());
        assertThat(opened.statusCode()).as(opened.body()).isEqualTo(201);
        return opened.body().replaceAll(".*\"sessionId\":\"([^\"]+)\".*", "$1");
    }

    private static HttpResponse.BodyHandler<String> body() {
        return HttpResponse.BodyHandlers.ofString();
    }

    private static String newTrace() {
        return String.format("5a%030x", TRACES.incrementAndGet());
    }

    private static String traceparent(String trace) {
        return "00-" + trace + "-" + PARENT + "-01";
    }

    private static String spanOf(String what, java.util.function.Predicate<Operation> doesIt) {
        List<Operation> found = OPERATIONS.stream().filter(doesIt).toList();
        assertThat(found).as(what + " in OPERATIONS").hasSize(1);
        return found.get(0).span();
    }

    private static Operation op(String span, List<String> http, List<String> grpc) {
        return new Operation(span, http, grpc);
    }

    private static List<String> http(String... operationIds) {
        return List.of(operationIds);
    }

    private static List<String> grpc(String... calls) {
        return List.of(calls);
    }

    /** An operation's span name ({@link #UNTRACED}: none), and the routes and calls that do it. */
    private record Operation(String span, List<String> http, List<String> grpc) {}
}
