package io.holdfast.server.http;

import static io.holdfast.server.http.HttpMessages.checkedName;
import static io.holdfast.server.http.HttpMessages.obj;
import static io.holdfast.server.http.HttpReplies.refused;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.holdfast.Keys;
import io.holdfast.model.CounterAdd;
import io.holdfast.model.KeyDelete;
import io.holdfast.model.KeyDeletePrefix;
import io.holdfast.model.Reply;
import io.holdfast.model.Transaction;
import io.holdfast.model.Transaction.Op;
import io.holdfast.server.http.HttpMessages.Answer;
import io.holdfast.server.http.HttpMessages.Refused;
import io.holdfast.server.http.HttpReplies.ReplyAnswer;
import io.holdfast.server.http.HttpRequests.AddCounter;
import io.holdfast.server.http.HttpRequests.DeleteKey;
import io.holdfast.server.http.HttpRequests.DeleteKeyPrefix;
import io.holdfast.server.http.HttpRequests.PutKey;
import io.holdfast.server.http.HttpRequests.Txn;
import io.holdfast.server.node.RaftLockService;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Keys over HTTP ({@code docs/protocol.md}, "Keys"): read one, list by prefix, put, delete, add to
 * a counter, and transactions. Reads are linearizable (at the leader, {@link
 * RaftLockService#keys}) and need {@code read} on the key; writes go through {@link HttpSessions}
 * with the caller's request id, so a retry after a lost answer applies once.
 *
 * <p><b>Guarantees.</b> A put with {@code expectedVersion} -1 (any version) is sent as a
 * transaction of that one put (the command of protocol version 6 that takes any version; a
 * register write refuses it), and answered as a put: its refusal without the transaction's {@code
 * "then op 1: "}. A refusal of the table is its status and code ({@link HttpReplies#refused}),
 * with {@code currentVersion} for a conflict.
 */
final class HttpKeyRoutes {
    private static final String FIRST_OP = "then op 1: ";

    private final RaftLockService service;
    private final HttpSessions sessions;

    HttpKeyRoutes(RaftLockService service, HttpSessions sessions) {
        this.service = service;
        this.sessions = sessions;
    }

    /** {@code GET /api/v1/keys/{key}}: the key, or 404 when it is absent. */
    CompletableFuture<Answer> get(String key, String identity) {
        String checked = checkedName(key);
        HttpRegisterRoutes.requireRead(service, identity, checked);
        // The key sorts before every other key it is a prefix of: the page's first, if present.
        return service.keys(identity, checked, "", 1).thenApply(page -> {
            if (page.keys().isEmpty() || !page.keys().get(0).key().equals(checked)) {
                throw new Refused(404, "NOT_FOUND", "key " + checked + " is absent");
            }
            return Answer.json(200, JsonViews.key(page.keys().get(0)));
        });
    }

    /**
     * {@code GET /api/v1/keys?prefix=&after=&limit=&keysOnly=}: one page, with where it was read;
     * with {@code keysOnly=true} every value is empty (not sent).
     */
    CompletableFuture<Answer> list(Map<String, String> query, String identity) {
        String prefix = query.getOrDefault("prefix", "");
        if (!prefix.isEmpty()) {
            checkedName(prefix);
        }
        int limit = HttpMessages.page(query, Keys.MAX_PAGE, Keys.MAX_PAGE);
        boolean keysOnly = keysOnly(query);
        return service.keys(identity, prefix, query.getOrDefault("after", ""), limit, keysOnly)
                .thenApply(page -> {
                    ObjectNode json = obj();
                    ArrayNode keys = json.putArray("keys");
                    page.keys().forEach(e -> keys.add(JsonViews.key(e)));
                    json.put("more", page.more())
                            .put("position", page.position().toString());
                    return Answer.json(200, json);
                });
    }

    private static boolean keysOnly(Map<String, String> query) {
        String v = query.getOrDefault("keysOnly", "false");
        if (!v.equals("true") && !v.equals("false")) {
            throw new Refused(400, "INVALID_ARGUMENT", "keysOnly must be true or false, not '" + v + "'");
        }
        return v.equals("true");
    }

    /** {@code POST /api/v1/keys/put}: the new version. */
    CompletableFuture<Answer> put(PutKey p) {
        Op.Put put = p.op();
        return sessions.keys(p.caller(), inv -> new Transaction(inv, List.of(), List.of(put), List.of()))
                .thenApply(r -> r.accept(new ReplyAnswer<Answer>() {
                    @Override
                    public Answer transacted(Reply.Transacted t) {
                        return keyVersion(p.key(), t.results().get(0).version());
                    }

                    @Override
                    public Answer failed(Reply.Failed f) {
                        String message = f.message().startsWith(FIRST_OP)
                                ? f.message().substring(FIRST_OP.length())
                                : f.message();
                        throw refused(new Reply.Failed(f.code(), message, f.cycle(), f.currentVersion()));
                    }
                }));
    }

    /** {@code POST /api/v1/keys/delete}: the version the key had (0: it was absent). */
    CompletableFuture<Answer> delete(DeleteKey d) {
        return sessions.keys(d.caller(), inv -> new KeyDelete(inv, d.key(), d.expectedVersion()))
                .thenApply(r -> r.accept(new ReplyAnswer<Answer>() {
                    @Override
                    public Answer ok(Reply.Ok ok) {
                        return keyVersion(d.key(), ok.value());
                    }
                }));
    }

    /**
     * {@code POST /api/v1/keys/delete-prefix}: one page; {@code deleted} keys, and {@code more} when
     * the page deleted its whole limit (ask again, with a new request id, until it is false).
     */
    CompletableFuture<Answer> deletePrefix(DeleteKeyPrefix d) {
        return sessions.keys(d.caller(), inv -> new KeyDeletePrefix(inv, d.prefix(), d.limit()))
                .thenApply(r -> r.accept(new ReplyAnswer<Answer>() {
                    @Override
                    public Answer ok(Reply.Ok ok) {
                        return Answer.json(
                                200,
                                obj().put("prefix", d.prefix())
                                        .put("deleted", ok.value())
                                        .put("more", ok.value() == d.limit()));
                    }
                }));
    }

    /** {@code POST /api/v1/keys/add}: the counter's new value and the key's new version. */
    CompletableFuture<Answer> add(AddCounter a) {
        return sessions.keys(a.caller(), inv -> new CounterAdd(inv, a.key(), a.delta()))
                .thenApply(r -> r.accept(new ReplyAnswer<Answer>() {
                    @Override
                    public Answer counted(Reply.Counted c) {
                        return Answer.json(
                                200,
                                obj().put("key", a.key())
                                        .put("value", c.value())
                                        .put("version", c.version()));
                    }
                }));
    }

    /** {@code POST /api/v1/txn}: which branch ran and each of its ops' results. */
    CompletableFuture<Answer> txn(Txn t) {
        return sessions.keys(t.caller(), inv -> new Transaction(inv, t.compares(), t.then(), t.otherwise()))
                .thenApply(r -> r.accept(new ReplyAnswer<Answer>() {
                    @Override
                    public Answer transacted(Reply.Transacted done) {
                        List<Op> branch = done.succeeded() ? t.then() : t.otherwise();
                        ObjectNode json = obj().put("succeeded", done.succeeded());
                        ArrayNode results = json.putArray("results");
                        for (int i = 0; i < done.results().size(); i++) {
                            results.add(result(branch.get(i), done.results().get(i)));
                        }
                        return Answer.json(200, json);
                    }
                }));
    }

    /** One op's result as docs/protocol.md writes it: by the op's type. */
    private static ObjectNode result(Op op, Reply.OpResult r) {
        ObjectNode json = obj().put("version", r.version());
        if (op instanceof Op.Add) {
            json.put("counter", r.counter());
        } else if (op instanceof Op.Get && r.value() != null) {
            json.put("value", Base64.getEncoder().encodeToString(r.value()));
        }
        return json;
    }

    private static Answer keyVersion(String key, long version) {
        return Answer.json(200, obj().put("key", key).put("version", version));
    }
}
