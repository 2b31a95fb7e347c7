package io.holdfast.server.http;

import static io.holdfast.server.http.HttpMessages.obj;
import static io.holdfast.server.http.HttpReplies.outcome;
import static io.holdfast.server.http.HttpReplies.refused;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import io.holdfast.ErrorCode;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.model.Reply;
import io.holdfast.server.http.HttpMessages.Answer;
import io.holdfast.server.http.HttpMessages.Refused;
import io.holdfast.server.http.HttpReplies.ReplyAnswer;
import io.holdfast.server.http.HttpRequests.Acquire;
import io.holdfast.server.http.HttpRequests.AcquireAll;
import io.holdfast.server.http.HttpRequests.AddCounter;
import io.holdfast.server.http.HttpRequests.Cancel;
import io.holdfast.server.http.HttpRequests.DeleteKey;
import io.holdfast.server.http.HttpRequests.Grant;
import io.holdfast.server.http.HttpRequests.OpenSession;
import io.holdfast.server.http.HttpRequests.PutKey;
import io.holdfast.server.http.HttpRequests.SetRegister;
import io.holdfast.server.http.HttpRequests.Txn;
import io.holdfast.server.http.HttpRoutes.Request;
import io.holdfast.server.http.HttpSessions.Caller;
import io.holdfast.server.node.NodeParts;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The handlers of the routes of clients that speak only HTTP ({@code docs/protocol.md}), each
 * named after its route in {@link HttpRoutes}: sessions (open, keep alive, close, end, their event
 * stream), locks, read-write locks and semaphores (acquire, acquire-all, release, renew, cancel a
 * wait, check a fence), registers (read, write), keys (read, list, put, delete, add, transactions)
 * and watches. Each reads its body as a record of {@link HttpRequests}, then goes through {@link
 * HttpSessions} (changes, numbered by the client's request id or the node's), {@link
 * HttpEventStream} (the events), {@link HttpRegisterRoutes} (registers and fence checks), {@link
 * HttpKeyRoutes} (keys) or {@link HttpWatchRoute} (watches).
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
    private final HttpKeyRoutes keys;

    HttpClientRoutes(NodeParts parts) {
        this.watches = new HttpWatchRoute(parts.service());
        this.sessions = new HttpSessions(parts, timer);
        this.stream = new HttpEventStream(parts, timer);
        this.registers = new HttpRegisterRoutes(parts.service(), sessions);
        this.keys = new HttpKeyRoutes(parts.service(), sessions);
    }

    /** {@code POST /api/v1/sessions}: opens a session; 201 with its id. */
    CompletableFuture<Answer> openSession(Request r) {
        OpenSession open = OpenSession.from(r.body());
        String name = open.clientName() != null
                ? open.clientName()
                : "http@" + r.exchange().getRemoteAddress().getAddress().getHostAddress();
        return sessions.open(r.identity(), name, open.ttlMillis(), open.lockDelayMillis(), open.sessionId())
                .thenApply(opened ->
                        Answer.json(201, obj().put("sessionId", opened).put("ttlMillis", open.ttlMillis())));
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
        JsonNode body = q.containsKey("requestId") || !hasBody(r.exchange()) ? null : r.body();
        Caller c = HttpRequests.closeSession(r.identity(), id, q, body);
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
        return registers.set(SetRegister.from(r.body(), r.identity()));
    }

    /** {@code GET /api/v1/keys/{key}}: a key's version, value and owner. */
    CompletableFuture<Answer> getKey(Request r) {
        return keys.get(r.param(), r.identity());
    }

    /** {@code GET /api/v1/keys}: a page of the keys under a prefix. */
    CompletableFuture<Answer> listKeys(Request r) {
        return keys.list(r.query(), r.identity());
    }

    /** {@code POST /api/v1/keys/put}: writes a key, maybe attached to the session or with a time to live. */
    CompletableFuture<Answer> putKey(Request r) {
        return keys.put(PutKey.from(r.body(), r.identity()));
    }

    /** {@code POST /api/v1/keys/delete}: deletes a key, maybe only at a version. */
    CompletableFuture<Answer> deleteKey(Request r) {
        return keys.delete(DeleteKey.from(r.body(), r.identity()));
    }

    /** {@code POST /api/v1/keys/delete-prefix}: deletes one page of the keys under a prefix. */
    CompletableFuture<Answer> deletePrefix(Request r) {
        return keys.deletePrefix(HttpRequests.DeleteKeyPrefix.from(r.body(), r.identity()));
    }

    /** {@code POST /api/v1/keys/add}: adds to a counter. */
    CompletableFuture<Answer> addCounter(Request r) {
        return keys.add(AddCounter.from(r.body(), r.identity()));
    }

    /** {@code POST /api/v1/txn}: compares, then one branch of ops, as one step. */
    CompletableFuture<Answer> txn(Request r) {
        return keys.txn(Txn.from(r.body(), r.identity()));
    }

    /** {@code POST /api/v1/acquire}: a lock, a read lock or semaphore permits; try once, or wait. */
    CompletableFuture<Answer> acquire(Request r) {
        Acquire a = Acquire.from(r.body(), r.identity());
        Caller c = a.caller();
        String name = a.name();
        return sessions.acquire(
                        c, name, a.mode(), a.permits(), a.maxPermits(), a.owner(), a.waitMillis(), a.leaseMillis())
                .thenApply(reply -> reply.accept(new AcquireAnswer(name) {
                    @Override
                    public Answer granted(Reply.Granted g) {
                        return Answer.json(200, grantJson(c).put("name", name).put("token", g.token()));
                    }
                }));
    }

    /** {@code POST /api/v1/acquire-all}: several locks at once, all or none. */
    CompletableFuture<Answer> acquireAll(Request r) {
        AcquireAll a = AcquireAll.from(r.body(), r.identity());
        Caller c = a.caller();
        List<String> names = a.names();
        return sessions.acquireAll(c, names, a.mode(), a.owner(), a.waitMillis(), a.leaseMillis())
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
        return grant(r, "POST /api/v1/release", "released", sessions::release);
    }

    /** {@code POST /api/v1/renew}: keeps a grant taken with a lease timeout for another one from now. */
    CompletableFuture<Answer> renew(Request r) {
        return grant(r, "POST /api/v1/renew", "renewed", sessions::renew);
    }

    /** What a grant named by session, name and token is told ({@code done}), answered with {@code done: true}. */
    private static CompletableFuture<Answer> grant(Request r, String what, String done, GrantCall call) {
        Grant g = Grant.from(r.body(), r.identity(), what);
        return call.send(g.caller(), g.name(), g.token())
                .thenApply(reply -> outcome(reply, obj().put("name", g.name()).put(done, true)));
    }

    /** A call of {@link HttpSessions} about one grant. */
    @FunctionalInterface
    private interface GrantCall {
        CompletableFuture<Reply> send(Caller c, String name, long token);
    }

    /** {@code POST /api/v1/cancel}: withdraws a queued acquire. */
    CompletableFuture<Answer> cancel(Request r) {
        Cancel cancel = Cancel.from(r.body(), r.identity());
        Caller c = cancel.caller();
        String name = cancel.name();
        long waitSeq = cancel.waitRequestId();
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

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
