package io.holdfast.server;

import static io.holdfast.server.HttpMessages.checkedName;
import static io.holdfast.server.HttpMessages.decode;
import static io.holdfast.server.HttpMessages.jsonBody;
import static io.holdfast.server.HttpMessages.number;
import static io.holdfast.server.HttpMessages.obj;
import static io.holdfast.server.HttpMessages.query;
import static io.holdfast.server.HttpMessages.requireRead;
import static io.holdfast.server.HttpMessages.text;
import static io.holdfast.server.HttpReplies.outcome;
import static io.holdfast.server.HttpReplies.refused;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import io.holdfast.ErrorCode;
import io.holdfast.LockMode;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.model.Reply;
import io.holdfast.model.SessionIds;
import io.holdfast.server.HttpMessages.Answer;
import io.holdfast.server.HttpMessages.Refused;
import io.holdfast.server.HttpReplies.ReplyAnswer;
import io.holdfast.server.HttpSessions.Caller;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The routes of clients that speak only HTTP ({@code docs/protocol.md}): sessions (open, keep
 * alive, close, end, their event stream), locks, read-write locks and semaphores (acquire,
 * acquire-all, release, renew, cancel a wait, check a fence), and registers (read, write). Each
 * reads and checks its request here, then goes through {@link HttpSessions} (changes, numbered by
 * the client's request id or the node's), {@link HttpEventStream} (the events) or {@link
 * HttpRegisterRoutes} (registers and fence checks).
 *
 * <p><b>Guarantees.</b> Every field is checked before anything is sent: a missing or mistyped one
 * is {@code 400} naming it. A route asked with the wrong method is {@code 405}.
 *
 * <p><b>Does not</b> keep a session alive or renew a lease for the client: see {@link
 * HttpSessions}.
 */
final class HttpClientRoutes implements AutoCloseable {

    /** The timers of waits (an acquire's backstop, a long poll's end): short tasks, one thread. */
    private final ScheduledExecutorService timer =
            Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("holdfast-http-timer"));

    private final HttpSessions sessions;
    private final HttpEventStream stream;
    private final HttpRegisterRoutes registers;
    private final HttpWatchRoute watches;

    HttpClientRoutes(RaftLockService service) {
        this.watches = new HttpWatchRoute(service);
        this.sessions = new HttpSessions(service, timer);
        this.stream = new HttpEventStream(service, timer);
        this.registers = new HttpRegisterRoutes(service, sessions);
    }

    /** The calls of HTTP clients; null if the route is none of them. */
    CompletableFuture<Answer> clientCall(HttpExchange ex, String method, String route, String identity) {
        switch (route) {
            case "sessions":
                return method.equals("POST") ? open(ex, identity) : null; // GET: the operators' list
            case "acquire":
                return acquire(jsonBody(ex, method), identity);
            case "acquire-all":
                return acquireAll(jsonBody(ex, method), identity);
            case "release":
            case "renew":
                return releaseOrRenew(route, jsonBody(ex, method), identity);
            case "cancel":
                return cancel(jsonBody(ex, method), identity);
            case "fence":
                requireRead(method);
                return registers.fence(query(ex), identity);
            case "watch":
                requireRead(method);
                return watches.poll(identity, query(ex));
            case "registers/set":
                JsonNode body = jsonBody(ex, method);
                return registers.set(body, caller(body, identity));
            default:
                break;
        }
        if (route.startsWith("registers/")) {
            requireRead(method);
            return registers.read(decode(route.substring("registers/".length())), identity);
        }
        if (route.startsWith("sessions/")) {
            return session(ex, method, route.substring("sessions/".length()), identity);
        }
        return null;
    }

    private CompletableFuture<Answer> session(HttpExchange ex, String method, String rest, String identity) {
        int slash = rest.indexOf('/');
        String id = decode(slash < 0 ? rest : rest.substring(0, slash));
        String verb = slash < 0 ? "" : rest.substring(slash + 1);
        switch (verb) {
            case "keepalive" -> {
                jsonBody(ex, method);
                return sessions.keepAlive(identity, id).thenApply(r -> outcome(r, obj().put("sessionId", id)));
            }
            case "end" -> {
                jsonBody(ex, method);
                return sessions.end(identity, id).thenApply(r -> outcome(r, obj().put("ended", id)));
            }
            case "events" -> {
                requireRead(method);
                return stream.poll(identity, id, query(ex));
            }
            case "" -> {
                if (!method.equals("DELETE")) {
                    throw new Refused(405, "METHOD_NOT_ALLOWED", "use DELETE to close a session, not " + method);
                }
                Map<String, String> q = query(ex);
                Caller c = q.containsKey("requestId") || !hasBody(ex)
                        ? caller(
                                identity,
                                id,
                                HttpMessages.longQuery(q, "requestId"),
                                HttpMessages.longQuery(q, "ackedBelow"))
                        : caller(HttpMessages.jsonBody(ex, "POST"), identity, id);
                return sessions.close(c).thenApply(r -> outcome(r, obj().put("closed", id)));
            }
            default -> throw new Refused(404, "NOT_FOUND", "no such API route: sessions/{id}/" + verb);
        }
    }

    private CompletableFuture<Answer> open(HttpExchange ex, String identity) {
        JsonNode body = jsonBody(ex, "POST");
        String clientName = text(body, "clientName", false);
        long ttl = number(body, "ttlMillis", 10_000);
        long lockDelay = number(body, "lockDelayMillis", 0);
        String id = text(body, "sessionId", false);
        if (id != null && !SessionIds.isWellFormedChoice(id)) {
            throw new Refused(
                    400,
                    "INVALID_ARGUMENT",
                    "\"sessionId\" must be 22 to 128 characters of A-Za-z0-9_- not starting with '-' (and hold at"
                            + " least 128 random bits)");
        }
        String name = clientName != null
                ? clientName
                : "http@" + ex.getRemoteAddress().getAddress().getHostAddress();
        return sessions.open(identity, name, ttl, lockDelay, id)
                .thenApply(opened ->
                        Answer.json(201, obj().put("sessionId", opened).put("ttlMillis", ttl)));
    }

    private CompletableFuture<Answer> acquire(JsonNode body, String identity) {
        Caller c = caller(body, identity);
        String name = checkedName(text(body, "name", true));
        LockMode mode = mode(body, true);
        long permits = number(body, "permits", 1);
        long maxPermits = number(body, "maxPermits", 1);
        if (mode != LockMode.PERMITS && (permits != 1 || maxPermits != 1)) {
            throw new Refused(400, "INVALID_ARGUMENT", "\"permits\" and \"maxPermits\" go with \"mode\": \"permits\"");
        }
        if (permits > Integer.MAX_VALUE || maxPermits > Integer.MAX_VALUE) {
            throw new Refused(400, "INVALID_ARGUMENT", "\"permits\" and \"maxPermits\" are at most 1000000");
        }
        long owner = number(body, "owner", 0);
        long wait = number(body, "waitMillis", 0);
        long lease = number(body, "leaseMillis", 0);
        return sessions.acquire(c, name, mode, (int) permits, (int) maxPermits, owner, wait, lease)
                .thenApply(r -> r.accept(new AcquireAnswer(name) {
                    @Override
                    public Answer granted(Reply.Granted g) {
                        return Answer.json(200, grantJson(c).put("name", name).put("token", g.token()));
                    }
                }));
    }

    private CompletableFuture<Answer> acquireAll(JsonNode body, String identity) {
        Caller c = caller(body, identity);
        JsonNode list = body.get("names");
        if (list == null || !list.isArray() || list.isEmpty()) {
            throw new Refused(400, "INVALID_ARGUMENT", "the body needs \"names\": an array of lock names");
        }
        TreeSet<String> sorted = new TreeSet<>();
        for (JsonNode n : list) {
            if (!n.isTextual()) {
                throw new Refused(400, "INVALID_ARGUMENT", "\"names\" must hold strings only");
            }
            if (!sorted.add(checkedName(n.asText()))) {
                throw new Refused(400, "INVALID_ARGUMENT", "\"names\" names " + n.asText() + " twice");
            }
        }
        List<String> names = new ArrayList<>(sorted);
        LockMode mode = mode(body, false);
        long owner = number(body, "owner", 0);
        long wait = number(body, "waitMillis", 0);
        long lease = number(body, "leaseMillis", 0);
        return sessions.acquireAll(c, names, mode, owner, wait, lease)
                .thenApply(r -> r.accept(new AcquireAnswer(String.join(", ", names)) {
                    @Override
                    public Answer grantedAll(Reply.GrantedAll g) {
                        ObjectNode json = grantJson(c);
                        ArrayNode locks = json.putArray("locks");
                        for (int i = 0; i < names.size(); i++) {
                            locks.addObject()
                                    .put("name", names.get(i))
                                    .put("token", g.tokens().get(i));
                        }
                        return Answer.json(200, json);
                    }
                }));
    }

    private static ObjectNode grantJson(Caller c) {
        ObjectNode json = obj().put("granted", true);
        if (c.requestId() != null) {
            json.put("requestId", c.requestId());
        }
        return json;
    }

    /**
     * An acquire's answer: its grant, which each acquire route writes, or why there is none: busy
     * or timed out (409 TIMEOUT), or the failure the table or the node gave.
     */
    private abstract static class AcquireAnswer extends ReplyAnswer<Answer> {
        private final String what;

        AcquireAnswer(String what) {
            this.what = what;
        }

        @Override
        public Answer busy(Reply.Busy r) {
            throw new Refused(409, "TIMEOUT", what + " is held or waited for; it was not granted");
        }

        @Override
        public Answer failed(Reply.Failed f) {
            throw f.code() == ErrorCode.TIMEOUT ? new Refused(409, "TIMEOUT", f.message()) : refused(f);
        }
    }

    private CompletableFuture<Answer> releaseOrRenew(String route, JsonNode body, String identity) {
        // A grant named by session, name and token: given back, or its lease timeout renewed.
        Caller c = caller(body, identity);
        String name = checkedName(text(body, "name", true));
        long token = number(body, "token", -1);
        boolean release = route.equals("release");
        CompletableFuture<Reply> done = release ? sessions.release(c, name, token) : sessions.renew(c, name, token);
        return done.thenApply(r -> outcome(r, obj().put("name", name).put(release ? "released" : "renewed", true)));
    }

    private CompletableFuture<Answer> cancel(JsonNode body, String identity) {
        Caller c = caller(body, identity);
        String name = checkedName(text(body, "name", true));
        long waitSeq = number(body, "waitRequestId", -1);
        ObjectNode json = obj().put("name", name);
        return sessions.cancel(c, name, waitSeq)
                .thenApply(r -> r.accept(new ReplyAnswer<Answer>() {
                    @Override
                    public Answer ok(Reply.Ok ok) {
                        return Answer.json(200, json.put("cancelled", ok.value() > 0));
                    }

                    // Granted before the cancel came: the client holds it now.
                    @Override
                    public Answer granted(Reply.Granted g) {
                        return Answer.json(200, json.put("cancelled", false).put("token", g.token()));
                    }

                    @Override
                    public Answer grantedAll(Reply.GrantedAll g) {
                        json.put("cancelled", false);
                        ArrayNode tokens = json.putArray("tokens");
                        g.tokens().forEach(tokens::add);
                        return Answer.json(200, json);
                    }
                }));
    }

    /** Whether the request came with a body (read whole already, see {@link HttpMessages#readWholeBody}). */
    private static boolean hasBody(HttpExchange ex) {
        try {
            return ex.getRequestBody().available() > 0;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    static Caller caller(JsonNode body, String identity) {
        return caller(body, identity, text(body, "session", true));
    }

    private static Caller caller(JsonNode body, String identity, String session) {
        JsonNode id = body.get("requestId");
        Long requestId = null;
        if (id != null && !id.isNull()) {
            if (!id.isIntegralNumber() || !id.canConvertToLong() || id.asLong() < 1) {
                throw new Refused(400, "INVALID_ARGUMENT", "\"requestId\" must be a whole number, 1 or more");
            }
            requestId = id.asLong();
        }
        long ackedBelow = number(body, "ackedBelow", 0);
        return caller(identity, session, requestId, ackedBelow);
    }

    private static Caller caller(String identity, String session, Long requestId, Long ackedBelow) {
        if (requestId == null && ackedBelow != null && ackedBelow > 0) {
            throw new Refused(400, "INVALID_ARGUMENT", "\"ackedBelow\" goes with \"requestId\"");
        }
        if (requestId != null && requestId < 1) {
            throw new Refused(400, "INVALID_ARGUMENT", "\"requestId\" must be a whole number, 1 or more");
        }
        return new Caller(identity, session, requestId, ackedBelow == null ? 0 : ackedBelow);
    }

    private static LockMode mode(JsonNode body, boolean permitsAllowed) {
        String text = text(body, "mode", false);
        if (text == null || text.equals("exclusive")) {
            return LockMode.EXCLUSIVE;
        }
        if (text.equals("shared")) {
            return LockMode.SHARED;
        }
        if (text.equals("permits") && permitsAllowed) {
            return LockMode.PERMITS;
        }
        throw new Refused(
                400,
                "INVALID_ARGUMENT",
                "\"mode\" is exclusive or shared" + (permitsAllowed ? " or permits" : "") + ", not " + text);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
