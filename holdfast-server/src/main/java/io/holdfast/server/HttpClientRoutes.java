package io.holdfast.server;

import static io.holdfast.server.HttpMessages.checkedName;
import static io.holdfast.server.HttpMessages.decode;
import static io.holdfast.server.HttpMessages.jsonBody;
import static io.holdfast.server.HttpMessages.number;
import static io.holdfast.server.HttpMessages.obj;
import static io.holdfast.server.HttpMessages.outcome;
import static io.holdfast.server.HttpMessages.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import io.holdfast.ErrorCode;
import io.holdfast.core.Reply;
import io.holdfast.server.HttpMessages.Answer;
import io.holdfast.server.HttpMessages.Refused;
import java.util.concurrent.CompletableFuture;

/**
 * The routes of clients that speak only HTTP: open a session, keep it alive, close it; acquire,
 * renew and release locks. Each is a {@code POST} (a {@code DELETE} closes a session) through
 * {@link HttpSessions}, which numbers the requests and waits for queued acquires without holding
 * one of the port's threads.
 *
 * <p><b>Does not</b> keep a session alive or renew a lease for the client: see {@link
 * HttpSessions}.
 */
final class HttpClientRoutes implements AutoCloseable {
    private final HttpSessions sessions;

    HttpClientRoutes(RaftLockService service) {
        this.sessions = new HttpSessions(service);
    }

    /** The calls of simple clients (sessions, acquire, renew, release); null if the route is none of them. */
    CompletableFuture<Answer> clientCall(HttpExchange ex, String method, String route, String identity) {
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
        if (route.equals("release") || route.equals("renew")) {
            // A grant named by session, name and token: given back, or its lease timeout renewed.
            JsonNode body = jsonBody(ex, method);
            String session = text(body, "session", true);
            String name = checkedName(text(body, "name", true));
            long token = number(body, "token", -1);
            boolean release = route.equals("release");
            CompletableFuture<Reply> done = release
                    ? sessions.release(identity, session, name, token)
                    : sessions.renew(identity, session, name, token);
            return done.thenApply(r -> outcome(r, obj().put("name", name).put(release ? "released" : "renewed", true)));
        }
        return null;
    }

    @Override
    public void close() {
        sessions.close();
    }
}
