package io.holdfast.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.holdfast.ErrorCode;
import io.holdfast.HoldfastException;
import io.holdfast.LockInfo;
import io.holdfast.PermissionDeniedException;
import io.holdfast.core.Command;
import io.holdfast.core.NotLeaderException;
import io.holdfast.core.Reply;
import io.holdfast.core.SessionPage;
import io.holdfast.protocol.TlsFiles;
import io.holdfast.protocol.server.Authenticator;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side port: the dashboard, the JSON API, Prometheus metrics, and the probes. See {@code
 * docs/http-api.md} for every route with examples.
 *
 * <ul>
 *   <li>Open to anyone who reaches the port: {@code /health} (the process serves), {@code /ready}
 *       (a leader is known), {@code /status} (this node's role, leader, term, applied index),
 *       {@code /digest} (to compare replicas), {@code /metrics} (Prometheus text), and the
 *       dashboard's page and assets (which hold no data). None of them shows a lock name, a
 *       session id or an identity.
 *   <li>{@code /api/v1/…}: the JSON API, which the dashboard uses too. With access control on,
 *       every call must prove an identity, as on the client port (a bearer token in {@code
 *       Authorization}, or a client certificate over HTTPS), and sees and does only what the
 *       access rules allow that identity: locks it may read, its own sessions (an admin sees all),
 *       revokes of names it may revoke (checked at apply on every replica, and audited).
 * </ul>
 *
 * <p>With TLS on the node, this port speaks only HTTPS with the node's certificate, and asks for
 * client certificates as the client port does. Requests that change something must be {@code
 * POST} with {@code Content-Type: application/json}: a cross-site form cannot send that without the
 * browser asking first, and this port never allows cross-origin calls, so a page elsewhere cannot
 * make a logged-in browser revoke a lock.
 *
 * <p>A follower answers reads from its own replica, which may lag the leader's by the time it takes
 * to apply the last entries (each answer says {@code "linearizable": false}); writes on a follower
 * are refused with {@code 503} naming the leader.
 *
 * <p>Failure story: a client sends garbage, a huge body, or a thousand requests at once. Each gets
 * a JSON error ({@code 400}, {@code 413}, or waits its turn on the port's four threads); no request
 * can stop the node serving others, and a slow read gives up after five seconds with {@code 504}.
 */
final class HttpEndpoint implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HttpEndpoint.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_BODY = 64 * 1024;
    private static final int MAX_PAGE = 1_000;
    private static final int DEFAULT_PAGE = 100;
    private static final long READ_TIMEOUT_SECONDS = 5;
    /** A change of the members waits for a new member to catch up (Ratis's staging timeout). */
    private static final long CHANGE_TIMEOUT_SECONDS = 30;

    private static final String API = "/api/v1/";

    private final HttpServer http;
    private final ExecutorService executor;
    private final HoldfastServer node;
    private final Authenticator authenticator;
    private final HttpSessions sessions;

    private HttpEndpoint(HttpServer http, ExecutorService executor, HoldfastServer node, Authenticator authenticator) {
        this.http = http;
        this.executor = executor;
        this.node = node;
        this.authenticator = authenticator;
        this.sessions = new HttpSessions(node.raftService());
    }

    static HttpEndpoint start(HoldfastServer node, String host, int port) throws IOException {
        ServerJvm.prepare(); // TCP_NODELAY, in case the hosting process did not call it first
        ServerConfig config = node.config();
        InetSocketAddress address = new InetSocketAddress(host, port);
        HttpServer http;
        if (config.tls() != null) {
            HttpsServer https = HttpsServer.create(address, 64);
            https.setHttpsConfigurator(new HttpsConfigurator(config.tls().sslContext()) {
                @Override
                public void configure(HttpsParameters params) {
                    var ssl = getSSLContext().getDefaultSSLParameters();
                    // Each of these two setters clears the other: call only the one that applies.
                    if (config.clientAuth() == TlsFiles.ClientAuth.REQUIRE) {
                        ssl.setNeedClientAuth(true);
                    } else if (config.clientAuth() == TlsFiles.ClientAuth.OPTIONAL) {
                        ssl.setWantClientAuth(true);
                    }
                    params.setSSLParameters(ssl);
                }
            });
            http = https;
        } else {
            http = HttpServer.create(address, 64);
        }
        ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "holdfast-http");
            t.setDaemon(true);
            return t;
        });
        http.setExecutor(executor);
        Authenticator authenticator = config.auth() == null
                ? new Authenticator(null, false)
                : new Authenticator(config.auth().tokens(), config.auth().required());
        HttpEndpoint endpoint = new HttpEndpoint(http, executor, node, authenticator);
        http.createContext("/", endpoint::handle);
        http.start();
        return endpoint;
    }

    int port() {
        return http.getAddress().getPort();
    }

    // ------------------------------------------------------------------------------ dispatch

    /** An answer: status and JSON body (or raw bytes with a content type). */
    private record Answer(int status, String contentType, byte[] body, Map<String, String> headers) {
        static Answer json(int status, JsonNode body) {
            try {
                return new Answer(status, "application/json", JSON.writeValueAsBytes(body), Map.of());
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }

        static Answer text(int status, String contentType, String body) {
            return new Answer(status, contentType, body.getBytes(StandardCharsets.UTF_8), Map.of());
        }
    }

    /** A request refused with an HTTP status and an error code. */
    private static final class Refused extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int status;
        final String code;
        final transient Map<String, Object> extra;

        Refused(int status, String code, String message) {
            this(status, code, message, Map.of());
        }

        Refused(int status, String code, String message, Map<String, Object> extra) {
            super(message, null, false, false);
            this.status = status;
            this.code = code;
            this.extra = extra;
        }
    }

    /**
     * Answers one exchange. Most routes answer at once; a waiting acquire answers later, from
     * whichever thread learns its outcome, without holding one of the port's threads meanwhile.
     */
    private void handle(HttpExchange ex) {
        CompletableFuture<Answer> answer;
        try {
            answer = route(ex);
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        answer.exceptionally(e -> failure(ex, e)).thenAccept(a -> {
            try {
                send(ex, a);
            } catch (IOException e) {
                LOG.debug("HTTP answer not sent", e);
            } finally {
                ex.close();
            }
        });
    }

    private Answer failure(HttpExchange ex, Throwable e) {
        Throwable cause =
                e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
        Refused r = cause instanceof Refused refused ? refused : refusal(cause);
        if (r == null) {
            LOG.warn("HTTP {} {} failed", ex.getRequestMethod(), ex.getRequestURI(), cause);
            return error(
                    500,
                    "INTERNAL",
                    "the node could not answer: " + cause.getClass().getSimpleName(),
                    Map.of());
        }
        return error(r.status, r.code, r.getMessage(), r.extra);
    }

    /** The HTTP refusal for a failure of the lock service, or null for a fault of the node. */
    private Refused refusal(Throwable cause) {
        if (cause instanceof NotLeaderException nle) {
            Map<String, Object> extra = new HashMap<>();
            extra.put("leader", node.leaderId());
            extra.put("leaderClientAddress", nle.leaderAddress());
            return new Refused(503, "NOT_LEADER", nle.getMessage(), extra);
        }
        if (cause instanceof HoldfastException he) {
            return refused(he.code(), he.getMessage());
        }
        return null;
    }

    private CompletableFuture<Answer> route(HttpExchange ex) {
        String method = ex.getRequestMethod();
        String path = ex.getRequestURI().getRawPath();
        if (path == null) {
            throw new Refused(400, "INVALID_ARGUMENT", "no path");
        }
        if (path.startsWith(API)) {
            return api(ex, method, path.substring(API.length()));
        }
        requireRead(method);
        return CompletableFuture.completedFuture(page(path));
    }

    private Answer page(String path) {
        return switch (path) {
            case "/health" -> Answer.json(200, obj().put("status", "up"));
            case "/ready" -> {
                boolean ready = node.leaderId() != null;
                yield Answer.json(ready ? 200 : 503, obj().put("ready", ready));
            }
            case "/status" -> Answer.json(200, nodeStatus(false));
            case "/digest" -> Answer.json(200, obj().put("digest", node.tableDigest()));
            case "/metrics" ->
                Answer.text(
                        200,
                        "text/plain; version=0.0.4; charset=utf-8",
                        node.metrics().scrape());
            default ->
                Dashboard.asset(path)
                        .map(a -> new Answer(200, a.contentType(), a.bytes(), Map.of("Cache-Control", "no-cache")))
                        .orElseThrow(() -> new Refused(404, "NOT_FOUND", "no such page: " + path));
        };
    }

    private CompletableFuture<Answer> api(HttpExchange ex, String method, String route) {
        String identity = identify(ex);
        if ("POST".equals(method) || "DELETE".equals(method)) {
            CompletableFuture<Answer> write = clientCall(ex, method, route, identity);
            if (write != null) {
                return write;
            }
        }
        return CompletableFuture.completedFuture(read(ex, method, route, identity));
    }

    /** The calls of simple clients (sessions, acquire, renew, release); null if the route is none of them. */
    private CompletableFuture<Answer> clientCall(HttpExchange ex, String method, String route, String identity) {
        if (route.equals("sessions") && method.equals("POST")) {
            JsonNode body = jsonBody(ex, method);
            String clientName = text(body, "clientName", false);
            long ttl = number(body, "ttlMillis", 10_000);
            if (clientName == null) {
                clientName = "http@" + ex.getRemoteAddress().getAddress().getHostAddress();
            }
            return sessions.open(identity, clientName, ttl)
                    .thenApply(id -> Answer.json(201, obj().put("sessionId", id).put("ttlMillis", ttl)));
        }
        if (route.startsWith("sessions/") && route.endsWith("/keepalive") && method.equals("POST")) {
            String id = decode(route.substring("sessions/".length(), route.length() - "/keepalive".length()));
            return sessions.keepAlive(identity, id).thenApply(r -> outcome(r, obj().put("sessionId", id)));
        }
        if (route.startsWith("sessions/") && method.equals("DELETE")) {
            String id = decode(route.substring("sessions/".length()));
            return sessions.close(identity, id).thenApply(r -> outcome(r, obj().put("closed", id)));
        }
        if (route.equals("acquire")) {
            JsonNode body = jsonBody(ex, method);
            String session = text(body, "session", true);
            String name = checkedName(text(body, "name", true));
            String modeText = text(body, "mode", false);
            io.holdfast.LockMode mode;
            if (modeText == null || modeText.equals("exclusive")) {
                mode = io.holdfast.LockMode.EXCLUSIVE;
            } else if (modeText.equals("shared")) {
                mode = io.holdfast.LockMode.SHARED;
            } else {
                throw new Refused(400, "INVALID_ARGUMENT", "\"mode\" is exclusive or shared, not " + modeText);
            }
            long wait = number(body, "waitMillis", 0);
            long lease = number(body, "leaseMillis", 0);
            return sessions.acquire(identity, session, name, mode, wait, lease).thenApply(r -> {
                if (r instanceof Reply.Granted g) {
                    return Answer.json(
                            200, obj().put("name", name).put("granted", true).put("token", g.token()));
                }
                if (r instanceof Reply.Busy) {
                    throw new Refused(409, "TIMEOUT", name + " is held or waited for; it was not granted");
                }
                if (r instanceof Reply.Failed f && f.code() == ErrorCode.TIMEOUT) {
                    throw new Refused(409, "TIMEOUT", f.message());
                }
                return outcome(r, obj());
            });
        }
        if (route.equals("release")) {
            JsonNode body = jsonBody(ex, method);
            String session = text(body, "session", true);
            String name = checkedName(text(body, "name", true));
            long token = number(body, "token", -1);
            return sessions.release(identity, session, name, token)
                    .thenApply(r -> outcome(r, obj().put("name", name).put("released", true)));
        }
        if (route.equals("renew")) {
            JsonNode body = jsonBody(ex, method);
            String session = text(body, "session", true);
            String name = checkedName(text(body, "name", true));
            long token = number(body, "token", -1);
            return sessions.renew(identity, session, name, token)
                    .thenApply(r -> outcome(r, obj().put("name", name).put("renewed", true)));
        }
        return null;
    }

    /** {@code ok} as 200 with {@code body}; a failed reply as its refusal. */
    private static Answer outcome(Reply r, ObjectNode body) {
        if (r instanceof Reply.Failed f) {
            throw refused(f.code(), f.message());
        }
        return Answer.json(200, body);
    }

    private static String checkedName(String name) {
        try {
            return io.holdfast.Names.check(name);
        } catch (HoldfastException e) {
            throw new Refused(400, "INVALID_ARGUMENT", e.getMessage());
        }
    }

    private static long number(JsonNode body, String field, long otherwise) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            if (otherwise < 0) {
                throw new Refused(400, "INVALID_ARGUMENT", "the body needs \"" + field + "\"");
            }
            return otherwise;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
            throw new Refused(400, "INVALID_ARGUMENT", "\"" + field + "\" must be a whole number, 0 or more");
        }
        return v.asLong();
    }

    private Answer read(HttpExchange ex, String method, String route, String identity) {
        Map<String, String> query = query(ex);
        if (route.equals("whoami")) {
            requireRead(method);
            return Answer.json(200, whoami(identity));
        }
        if (route.equals("status")) {
            requireRead(method);
            return Answer.json(200, nodeStatus(true));
        }
        if (route.equals("locks")) {
            requireRead(method);
            return locks(identity, query);
        }
        if (route.startsWith("locks/")) {
            requireRead(method);
            return lock(identity, decode(route.substring("locks/".length())));
        }
        if (route.equals("sessions")) {
            requireRead(method);
            return sessions(identity, query);
        }
        if (route.equals("revoke")) {
            JsonNode body = jsonBody(ex, method);
            return revoke(identity, text(body, "name", true));
        }
        if (route.startsWith("members/")) {
            JsonNode body = jsonBody(ex, method);
            return changeMembers(identity, route.substring("members/".length()), body);
        }
        if (route.equals("acquire")
                || route.equals("release")
                || route.equals("renew")
                || route.startsWith("sessions/")) {
            throw new Refused(405, "METHOD_NOT_ALLOWED", "use POST here (DELETE to close a session), not " + method);
        }
        throw new Refused(404, "NOT_FOUND", "no such API route: " + API + route);
    }

    // ------------------------------------------------------------------------------ routes

    /** This node's Raft state; with {@code members}, every member too. */
    private ObjectNode nodeStatus(boolean members) {
        ObjectNode out = JsonViews.cluster(await(node.raftService().cluster()));
        if (!members) {
            out.remove("members");
        }
        out.put("accessControl", node.accessRules() != null);
        return out;
    }

    private ObjectNode whoami(String identity) {
        ObjectNode out = obj().put("identity", identity).put("authRequired", authenticator.required());
        out.put("admin", node.raftService().isAdmin(identity));
        return out;
    }

    private Answer locks(String identity, Map<String, String> query) {
        String prefix = query.getOrDefault("prefix", "");
        String after = query.get("after");
        int limit = page(query);
        RaftLockService service = node.raftService();
        var read = await(service.inspect(
                (table, now) -> table.list(prefix, after, limit + 1, now, n -> service.mayRead(identity, n))));
        List<LockInfo> locks = read.value();
        boolean more = locks.size() > limit;
        if (more) {
            locks = locks.subList(0, limit);
        }
        ObjectNode out = servedBy(read.linearizable());
        ArrayNode items = out.putArray("locks");
        for (LockInfo l : locks) {
            items.add(JsonViews.lock(l));
        }
        out.put("next", more ? locks.get(locks.size() - 1).name() : null);
        return Answer.json(200, out);
    }

    private Answer lock(String identity, String name) {
        if (!node.raftService().mayRead(identity, name)) {
            throw new Refused(403, "PERMISSION_DENIED", identity + " may not read " + name);
        }
        var read = await(node.raftService().inspect((table, now) -> table.describe(name, now)));
        Optional<LockInfo> lock = read.value();
        if (lock.isEmpty()) {
            throw new Refused(404, "NOT_FOUND", "no lock " + name + " is held or waited for");
        }
        ObjectNode out = servedBy(read.linearizable());
        out.set("lock", JsonViews.lock(lock.get()));
        return Answer.json(200, out);
    }

    private Answer sessions(String identity, Map<String, String> query) {
        SessionPage page = await(node.raftService().inspectSessions(identity, query.get("after"), page(query)));
        ObjectNode out = servedBy(page.linearizable());
        ArrayNode items = out.putArray("sessions");
        for (SessionPage.Session s : page.sessions()) {
            items.add(JsonViews.session(s));
        }
        out.put("next", page.next());
        return Answer.json(200, out);
    }

    /**
     * Revokes through the log like any other client's revoke: the table checks the {@code revoke}
     * permission at apply on every replica, and audits the attempt whether allowed or refused.
     */
    private Answer revoke(String identity, String name) {
        checkedName(name);
        Reply reply = await(node.raftService().submit(new Command.Revoke(0, name), identity));
        if (reply instanceof Reply.Failed f) {
            throw refused(f.code(), f.message());
        }
        long revoked = reply instanceof Reply.Ok ok ? ok.value() : 0;
        return Answer.json(200, obj().put("name", name).put("revoked", revoked));
    }

    /**
     * {@code POST /api/v1/members/add|remove|promote|transfer-leader}: a change of the members
     * through the leader (admin only with access control on), answered with the members after it.
     * A change waits for a new member to catch up, so it may take longer than a read.
     */
    private Answer changeMembers(String identity, String verb, JsonNode body) {
        io.holdfast.core.MembershipChange change = switch (verb) {
            case "add" -> {
                JsonNode learner = body.get("learner");
                if (learner != null && !learner.isBoolean()) {
                    throw new Refused(400, "INVALID_ARGUMENT", "\"learner\" must be true or false");
                }
                yield new io.holdfast.core.MembershipChange.Add(
                        text(body, "id", true),
                        text(body, "raftAddress", true),
                        text(body, "clientAddress", true),
                        learner != null && learner.asBoolean());
            }
            case "remove" -> new io.holdfast.core.MembershipChange.Remove(text(body, "id", true));
            case "promote" -> new io.holdfast.core.MembershipChange.Promote(text(body, "id", true));
            case "transfer-leader" -> new io.holdfast.core.MembershipChange.TransferLeader(text(body, "id", false));
            default ->
                throw new Refused(
                        404,
                        "NOT_FOUND",
                        "no such API route: " + API + "members/" + verb + " (add, remove, promote or"
                                + " transfer-leader)");
        };
        return Answer.json(
                200,
                JsonViews.cluster(await(node.raftService().changeMembers(identity, change), CHANGE_TIMEOUT_SECONDS)));
    }

    // ------------------------------------------------------------------------------ JSON shapes

    private ObjectNode servedBy(boolean linearizable) {
        ObjectNode out = obj();
        out.put("node", node.config().nodeId()).put("linearizable", linearizable);
        return out;
    }

    private static ObjectNode obj() {
        return JSON.createObjectNode();
    }

    private static Answer error(int status, String code, String message, Map<String, Object> extra) {
        ObjectNode err = obj().put("code", code).put("message", message);
        extra.forEach((k, v) -> err.set(k, JSON.valueToTree(v)));
        ObjectNode out = obj();
        out.set("error", err);
        Map<String, String> headers =
                status == 401 ? Map.of("WWW-Authenticate", "Bearer realm=\"holdfast\"") : Map.of();
        try {
            return new Answer(status, "application/json", JSON.writeValueAsBytes(out), headers);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    // ------------------------------------------------------------------------------ request parts

    private String identify(HttpExchange ex) {
        String authorization = ex.getRequestHeaders().getFirst("Authorization");
        SSLSession tls = ex instanceof HttpsExchange https ? https.getSSLSession() : null;
        String identity;
        try {
            identity = authenticator.identify(authorization, tls);
        } catch (PermissionDeniedException e) {
            throw new Refused(401, "PERMISSION_DENIED", e.getMessage());
        }
        if (identity == null && authenticator.required()) {
            throw new Refused(
                    401,
                    "PERMISSION_DENIED",
                    "this server requires authentication: a bearer token (Authorization: Bearer TOKEN) or a"
                            + " client certificate");
        }
        return identity;
    }

    private static void requireRead(String method) {
        if (!"GET".equals(method) && !"HEAD".equals(method)) {
            throw new Refused(405, "METHOD_NOT_ALLOWED", "use GET here, not " + method);
        }
    }

    private static JsonNode jsonBody(HttpExchange ex, String method) {
        if (!"POST".equals(method)) {
            throw new Refused(405, "METHOD_NOT_ALLOWED", "use POST here, not " + method);
        }
        String type = ex.getRequestHeaders().getFirst("Content-Type");
        if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            throw new Refused(415, "INVALID_ARGUMENT", "send the body as Content-Type: application/json");
        }
        byte[] body;
        try (InputStream in = ex.getRequestBody()) {
            body = in.readNBytes(MAX_BODY + 1);
        } catch (IOException e) {
            throw new Refused(400, "INVALID_ARGUMENT", "the body could not be read");
        }
        if (body.length > MAX_BODY) {
            throw new Refused(413, "INVALID_ARGUMENT", "the body is larger than " + MAX_BODY + " bytes");
        }
        try {
            JsonNode node = JSON.readTree(body);
            if (node == null || !node.isObject()) {
                throw new Refused(400, "INVALID_ARGUMENT", "the body must be a JSON object");
            }
            return node;
        } catch (IOException e) {
            throw new Refused(400, "INVALID_ARGUMENT", "the body is not valid JSON");
        }
    }

    private static String text(JsonNode body, String field, boolean required) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                throw new Refused(400, "INVALID_ARGUMENT", "the body needs \"" + field + "\"");
            }
            return null;
        }
        if (!v.isTextual()) {
            throw new Refused(400, "INVALID_ARGUMENT", "\"" + field + "\" must be a string");
        }
        return v.asText();
    }

    private static Map<String, String> query(HttpExchange ex) {
        String raw = ex.getRequestURI().getRawQuery();
        Map<String, String> out = new HashMap<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        if (raw.length() > 4096) {
            throw new Refused(414, "INVALID_ARGUMENT", "the query is longer than 4096 characters");
        }
        for (String part : raw.split("&")) {
            int eq = part.indexOf('=');
            String key = decode(eq < 0 ? part : part.substring(0, eq));
            String value = eq < 0 ? "" : decode(part.substring(eq + 1));
            out.put(key, value);
        }
        return out;
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new Refused(400, "INVALID_ARGUMENT", "bad percent-encoding in " + s);
        }
    }

    private static int page(Map<String, String> query) {
        String limit = query.get("limit");
        if (limit == null) {
            return DEFAULT_PAGE;
        }
        try {
            int n = Integer.parseInt(limit);
            if (n >= 1 && n <= MAX_PAGE) {
                return n;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new Refused(400, "INVALID_ARGUMENT", "limit must be 1 to " + MAX_PAGE + ", not " + limit);
    }

    private <T> T await(CompletableFuture<T> future) {
        return await(future, READ_TIMEOUT_SECONDS);
    }

    private <T> T await(CompletableFuture<T> future, long seconds) {
        try {
            return future.get(seconds, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            future.cancel(false);
            throw new Refused(504, "TIMEOUT", "the cluster did not answer within " + seconds + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Refused(503, "UNAVAILABLE", "interrupted");
        } catch (ExecutionException e) {
            Refused r = refusal(e.getCause());
            throw r != null ? r : new Refused(503, "UNAVAILABLE", String.valueOf(e.getCause()));
        }
    }

    private static Refused refused(ErrorCode code, String message) {
        int status = switch (code) {
            case INVALID_ARGUMENT, UNSUPPORTED -> 400;
            case PERMISSION_DENIED -> 403;
            case QUOTA_EXCEEDED -> 429;
            case CONFLICT, NOT_OWNER, LOCK_LOST, DEADLOCK -> 409;
            case SESSION_EXPIRED -> 410;
            case TIMEOUT -> 504;
            case UNAVAILABLE -> 503;
        };
        return new Refused(status, code.name(), message);
    }

    private static void send(HttpExchange ex, Answer a) throws IOException {
        var headers = ex.getResponseHeaders();
        headers.set("Content-Type", a.contentType());
        headers.set("X-Content-Type-Options", "nosniff");
        headers.set("X-Frame-Options", "DENY");
        headers.set(
                "Content-Security-Policy",
                "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
        a.headers().forEach(headers::set);
        if ("HEAD".equals(ex.getRequestMethod())) {
            ex.sendResponseHeaders(a.status(), -1);
            return;
        }
        ex.sendResponseHeaders(a.status(), a.body().length == 0 ? -1 : a.body().length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(a.body());
        }
    }

    @Override
    public void close() {
        http.stop(0);
        executor.shutdownNow();
        sessions.close();
    }
}
