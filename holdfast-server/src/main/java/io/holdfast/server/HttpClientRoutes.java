package io.holdfast.server;

import static io.holdfast.server.HttpMessages.checkedName;
import static io.holdfast.server.HttpMessages.number;
import static io.holdfast.server.HttpMessages.obj;
import static io.holdfast.server.HttpMessages.text;
import static io.holdfast.server.HttpReplies.outcome;
import static io.holdfast.server.HttpReplies.refused;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import io.holdfast.DistributedSemaphore;
import io.holdfast.ErrorCode;
import io.holdfast.LockMode;
import io.holdfast.model.Reply;
import io.holdfast.model.SessionIds;
import io.holdfast.server.HttpMessages.Answer;
import io.holdfast.server.HttpMessages.Refused;
import io.holdfast.server.HttpReplies.ReplyAnswer;
import io.holdfast.server.HttpRoutes.Request;
import io.holdfast.server.HttpSessions.Caller;
import io.holdfast.spi.DaemonThreads;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The handlers of the routes of clients that speak only HTTP ({@code docs/protocol.md}), each
 * named after its route in {@link HttpRoutes}: sessions (open, keep alive, close, end, their event
 * stream), locks, read-write locks and semaphores (acquire, acquire-all, release, renew, cancel a
 * wait, check a fence), registers (read, write) and watches. Each reads and checks its request here, then goes through {@link HttpSessions} (changes, numbered by
 * the client's request id or the node's), {@link HttpEventStream} (the events) or {@link
 * HttpRegisterRoutes} (registers and fence checks).
 *
 * <p><b>Guarantees.</b> Every field is checked before anything is sent: a missing or mistyped one
 * is {@code 400} naming it.
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

    /** {@code POST /api/v1/sessions}: opens a session; 201 with its id. */
    CompletableFuture<Answer> openSession(Request r) {
        JsonNode body = r.body();
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
                : "http@" + r.exchange().getRemoteAddress().getAddress().getHostAddress();
        return sessions.open(r.identity(), name, ttl, lockDelay, id)
                .thenApply(opened ->
                        Answer.json(201, obj().put("sessionId", opened).put("ttlMillis", ttl)));
    }

    /** {@code POST /api/v1/sessions/{id}/keepalive}: a heartbeat. */
    CompletableFuture<Answer> keepAlive(Request r) {
        r.body();
        String id = r.param();
        return sessions.keepAlive(r.identity(), id).thenApply(reply -> outcome(reply, obj().put("sessionId", id)));
    }

    /** {@code POST /api/v1/sessions/{id}/end}: ends the session as if its heartbeats had stopped. */
    CompletableFuture<Answer> endSession(Request r) {
        r.body();
        String id = r.param();
        return sessions.end(r.identity(), id).thenApply(reply -> outcome(reply, obj().put("ended", id)));
    }

    /** {@code GET /api/v1/sessions/{id}/events}: the session's event stream, a long poll. */
    CompletableFuture<Answer> sessionEvents(Request r) {
        return stream.poll(r.identity(), r.param(), r.query());
    }

    /**
     * {@code DELETE /api/v1/sessions/{id}}: closes the session, numbered by {@code requestId} in
     * the query, or in a JSON body when the query has none.
     */
    CompletableFuture<Answer> closeSession(Request r) {
        String id = r.param();
        Map<String, String> q = r.query();
        Caller c = q.containsKey("requestId") || !hasBody(r.exchange())
                ? caller(
                        r.identity(),
                        id,
                        HttpMessages.longQuery(q, "requestId"),
                        HttpMessages.longQuery(q, "ackedBelow"))
                : caller(r.body(), r.identity(), id);
        return sessions.close(c).thenApply(reply -> outcome(reply, obj().put("closed", id)));
    }

    /** {@code GET /api/v1/fence}: whether a token is a current grant of a lock. */
    CompletableFuture<Answer> fence(Request r) {
        return registers.fence(r.query(), r.identity());
    }

    /** {@code GET /api/v1/watch}: the changes of a lock, a prefix or a register, a long poll. */
    CompletableFuture<Answer> watch(Request r) {
        return watches.poll(r.identity(), r.query());
    }

    /** {@code GET /api/v1/registers/{key}}: a register's version and value. */
    CompletableFuture<Answer> readRegister(Request r) {
        return registers.read(r.param(), r.identity());
    }

    /** {@code POST /api/v1/registers/set}: a compare-and-set of a register, maybe fenced. */
    CompletableFuture<Answer> setRegister(Request r) {
        JsonNode body = r.body();
        return registers.set(body, caller(body, r.identity()));
    }

    /** {@code POST /api/v1/acquire}: a lock, a read lock or semaphore permits; try once, or wait. */
    CompletableFuture<Answer> acquire(Request r) {
        JsonNode body = r.body();
        Caller c = caller(body, r.identity());
        String name = checkedName(text(body, "name", true));
        LockMode mode = mode(body, true);
        long permits = number(body, "permits", 1);
        long maxPermits = number(body, "maxPermits", 1);
        if (mode != LockMode.PERMITS && (permits != 1 || maxPermits != 1)) {
            throw new Refused(400, "INVALID_ARGUMENT", "\"permits\" and \"maxPermits\" go with \"mode\": \"permits\"");
        }
        if (permits > DistributedSemaphore.MAX_PERMITS || maxPermits > DistributedSemaphore.MAX_PERMITS) {
            throw new Refused(
                    400,
                    "INVALID_ARGUMENT",
                    "\"permits\" and \"maxPermits\" are at most " + DistributedSemaphore.MAX_PERMITS);
        }
        long owner = number(body, "owner", 0);
        long wait = number(body, "waitMillis", 0);
        long lease = number(body, "leaseMillis", 0);
        return sessions.acquire(c, name, mode, (int) permits, (int) maxPermits, owner, wait, lease)
                .thenApply(reply -> reply.accept(new AcquireAnswer(name) {
                    @Override
                    public Answer granted(Reply.Granted g) {
                        return Answer.json(200, grantJson(c).put("name", name).put("token", g.token()));
                    }
                }));
    }

    /** {@code POST /api/v1/acquire-all}: several locks at once, all or none. */
    CompletableFuture<Answer> acquireAll(Request r) {
        JsonNode body = r.body();
        Caller c = caller(body, r.identity());
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
                .thenApply(reply -> reply.accept(new AcquireAnswer(String.join(", ", names)) {
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

    /** {@code POST /api/v1/release}: gives back the grant with this token. */
    CompletableFuture<Answer> release(Request r) {
        return grant(r, "released", sessions::release);
    }

    /** {@code POST /api/v1/renew}: keeps a grant taken with a lease timeout for another one from now. */
    CompletableFuture<Answer> renew(Request r) {
        return grant(r, "renewed", sessions::renew);
    }

    /** What a grant named by session, name and token is told ({@code done}), answered with {@code done: true}. */
    private static CompletableFuture<Answer> grant(Request r, String done, GrantCall call) {
        JsonNode body = r.body();
        Caller c = caller(body, r.identity());
        String name = checkedName(text(body, "name", true));
        long token = number(body, "token", -1);
        return call.send(c, name, token)
                .thenApply(reply -> outcome(reply, obj().put("name", name).put(done, true)));
    }

    /** A call of {@link HttpSessions} about one grant. */
    @FunctionalInterface
    private interface GrantCall {
        CompletableFuture<Reply> send(Caller c, String name, long token);
    }

    /** {@code POST /api/v1/cancel}: withdraws a queued acquire. */
    CompletableFuture<Answer> cancel(Request r) {
        JsonNode body = r.body();
        Caller c = caller(body, r.identity());
        String name = checkedName(text(body, "name", true));
        long waitSeq = number(body, "waitRequestId", -1);
        ObjectNode json = obj().put("name", name);
        return sessions.cancel(c, name, waitSeq)
                .thenApply(reply -> reply.accept(new ReplyAnswer<Answer>() {
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
