package io.holdfast.server.http;

import static io.holdfast.server.http.HttpMessages.checkedName;
import static io.holdfast.server.http.HttpMessages.obj;

import io.holdfast.model.Reply;
import io.holdfast.server.http.HttpMessages.Answer;
import io.holdfast.server.http.HttpMessages.Refused;
import io.holdfast.server.node.RaftLockService;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * What a holder checks and writes with its token over HTTP: versioned registers (read; write with
 * compare-and-set, optionally fenced by a grant) and fence checks (is this token still a current
 * grant of that lock). Reads need {@code read} on the name and the leader (linearizable); writes go
 * through {@link HttpSessions} with the caller's request id.
 */
final class HttpRegisterRoutes {
    private final RaftLockService service;
    private final HttpSessions sessions;

    HttpRegisterRoutes(RaftLockService service, HttpSessions sessions) {
        this.service = service;
        this.sessions = sessions;
    }

    CompletableFuture<Answer> fence(Map<String, String> q, String identity) {
        String name = checkedName(HttpMessages.required(q, "name"));
        long token = HttpMessages.longQuery(q, "token") == null ? -1 : HttpMessages.longQuery(q, "token");
        if (token < 0) {
            throw new Refused(400, "INVALID_ARGUMENT", "the query needs \"token\"");
        }
        readable(identity, name);
        return service.isCurrentHolder(name, token)
                .thenApply(current -> Answer.json(
                        200, obj().put("name", name).put("token", token).put("current", current)));
    }

    CompletableFuture<Answer> read(String key, String identity) {
        String checked = checkedName(key);
        readable(identity, checked);
        return service.readRegister(checked).thenApply(value -> {
            if (value.isEmpty()) {
                throw new Refused(404, "NOT_FOUND", "register " + checked + " was never written");
            }
            return Answer.json(
                    200,
                    obj().put("key", checked)
                            .put("version", value.get().version())
                            .put(
                                    "value",
                                    Base64.getEncoder()
                                            .encodeToString(value.get().value())));
        });
    }

    CompletableFuture<Answer> set(HttpRequests.SetRegister set) {
        String key = set.key();
        return sessions.registerSet(
                        set.caller(), key, set.expectedVersion(), set.value(), set.fenceName(), set.fenceToken())
                .thenApply(r -> r.accept(new HttpReplies.ReplyAnswer<Answer>() {
                    @Override
                    public Answer written(Reply.Written w) {
                        return Answer.json(200, obj().put("key", key).put("version", w.version()));
                    }
                }));
    }

    private void readable(String identity, String name) {
        requireRead(service, identity, name);
    }

    /** Refuses ({@code 403}) a caller that may not read {@code name}. */
    static void requireRead(RaftLockService service, String identity, String name) {
        if (!service.mayRead(identity, name)) {
            throw new Refused(
                    403,
                    "PERMISSION_DENIED",
                    (identity == null ? "an anonymous client" : identity) + " may not read " + name);
        }
    }
}
