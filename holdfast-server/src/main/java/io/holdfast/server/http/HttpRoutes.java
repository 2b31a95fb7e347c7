package io.holdfast.server.http;

import static io.holdfast.protocol.SpanName.ACQUIRE;
import static io.holdfast.protocol.SpanName.ACQUIRE_CANCEL;
import static io.holdfast.protocol.SpanName.ELECTION_DESCRIBE;
import static io.holdfast.protocol.SpanName.ELECTION_LIST;
import static io.holdfast.protocol.SpanName.FENCE_CHECK;
import static io.holdfast.protocol.SpanName.KEY_ADD;
import static io.holdfast.protocol.SpanName.KEY_DELETE;
import static io.holdfast.protocol.SpanName.KEY_DELETE_PREFIX;
import static io.holdfast.protocol.SpanName.KEY_LIST;
import static io.holdfast.protocol.SpanName.KEY_TXN;
import static io.holdfast.protocol.SpanName.LOCK_DESCRIBE;
import static io.holdfast.protocol.SpanName.LOCK_LIST;
import static io.holdfast.protocol.SpanName.LOCK_REVOKE;
import static io.holdfast.protocol.SpanName.MEMBER_CHANGE;
import static io.holdfast.protocol.SpanName.MEMBER_LIST;
import static io.holdfast.protocol.SpanName.REGISTER_READ;
import static io.holdfast.protocol.SpanName.REGISTER_SET;
import static io.holdfast.protocol.SpanName.RELEASE;
import static io.holdfast.protocol.SpanName.RENEW;
import static io.holdfast.protocol.SpanName.SESSION_CLOSE;
import static io.holdfast.protocol.SpanName.SESSION_LIST;
import static io.holdfast.protocol.SpanName.SESSION_OPEN;
import static io.holdfast.protocol.SpanName.WATCH_POLL;
import static io.holdfast.server.http.HttpRoutes.Audience.ADMIN;
import static io.holdfast.server.http.HttpRoutes.Audience.CLIENT;
import static io.holdfast.server.http.HttpRoutes.Audience.OPEN;
import static io.holdfast.server.http.HttpRoutes.Audience.OPERATOR;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import io.holdfast.protocol.SpanName;
import io.holdfast.server.http.HttpMessages.Answer;
import io.holdfast.server.node.NodeParts;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Every route of the HTTP port, one row each: method, path, who calls it, its OpenAPI operation,
 * the name of its span (or none: not traced) and its handler. {@link HttpEndpoint} serves the port from this table alone, and {@code
 * openapi.json} describes exactly these rows ({@code HttpRouteTableTest} checks both ways). The
 * dashboard's own files ({@link Dashboard}) are files, not routes: they are served for a {@code
 * GET} no row takes. The JSON bodies the routes read are the records of {@link HttpRequests}, whose
 * fields the same test checks against the description's request bodies.
 *
 * <p><b>Paths.</b> {@code {id}} takes one segment of the path; a variable written {@code {name*}}
 * takes the rest of the path, slashes included (lock and register names hold slashes). A path is
 * served by the first pattern in the table that fits it (so {@code registers/set} stands before
 * {@code registers/{key*}}, and {@code keys/put} before {@code keys/{key*}}), and by that pattern's row for the request's method. A {@code GET}
 * row answers {@code HEAD} too, except a streamed one.
 *
 * <p><b>Guarantees.</b> A path under {@code /api/v1/} that no row takes is {@code 404}; a method
 * the path's rows do not take is {@code 405} naming the ones they take. Every route but the open
 * ones proves the caller's identity first ({@code 401} if it must and does not; a streamed route
 * checks its method before); what that
 * identity may do is checked by the route's service call (the access rules, at apply on every
 * replica for a change), not here.
 */
final class HttpRoutes {
    /** Who calls a route, and so what it asks of the caller. */
    enum Audience {
        /** Probes and metrics: anyone who reaches the port, no identity; they show no name, session or identity. */
        OPEN,
        /** The calls of HTTP-only clients: an identity (with access control on), and the session's or the name's rights. */
        CLIENT,
        /** Operators and the dashboard: an identity, and sees or revokes what the access rules allow it. */
        OPERATOR,
        /** Changes of the members and backups: an identity that is an admin (with access control on). */
        ADMIN
    }

    /** What a route's handler gets: the exchange (its body read whole already), the caller, the path's variable, the query. */
    record Request(HttpExchange exchange, String identity, String param, Map<String, String> query) {
        /** The body as a JSON object ({@code 415} if it is not sent as one, {@code 400} if it is not one). */
        JsonNode body() {
            return HttpMessages.jsonBody(exchange);
        }
    }

    /** The objects that serve the routes, which the rows' handlers call. */
    record Handlers(NodeParts node, HttpClientRoutes clients, HttpOperatorRoutes operators) {}

    /** A route's handler: its answer, maybe later; a streamed route's writes to the exchange itself and completes with null. */
    @FunctionalInterface
    interface Handler {
        CompletableFuture<Answer> handle(Handlers h, Request r) throws IOException;
    }

    /**
     * One row.
     *
     * @param path the pattern, {@code {x}} for one segment and {@code {x*}} for the rest of the path
     * @param span the name of the request's span, as the same call's over gRPC (the command it
     *     submits, or the read it makes: {@link SpanName}); null ({@link #UNTRACED}) for a route
     *     that is not traced: probes, metrics, who am I, a backup's download, and a session's
     *     heartbeats and event stream (its background, not traced over gRPC either)
     * @param streamed answered on the port's thread as it is written, not as one {@link Answer}
     */
    record Route(
            String method,
            String path,
            Audience audience,
            String operationId,
            SpanName span,
            Handler handler,
            boolean streamed) {
        /** Whether the route's requests have a span ({@link HttpTracing}). */
        boolean traced() {
            return span != null;
        }

        /** The path as OpenAPI writes it: {@code {name}} for {@code {name*}}. */
        String openApiPath() {
            return path.replace("*}", "}");
        }

        boolean takes(String requestMethod) {
            return method.equals(requestMethod) || (method.equals("GET") && !streamed && requestMethod.equals("HEAD"));
        }
    }

    /** The span column of a route that is not traced. */
    private static final SpanName UNTRACED = null;

    static final List<Route> TABLE = List.of(
            get("/health", OPEN, "health", UNTRACED, plain(HttpOperatorRoutes::health)),
            get("/ready", OPEN, "ready", UNTRACED, plain(HttpOperatorRoutes::ready)),
            get("/status", OPEN, "nodeStatus", UNTRACED, plain(HttpOperatorRoutes::nodeStatus)),
            get("/digest", OPEN, "digest", UNTRACED, plain(HttpOperatorRoutes::digest)),
            get("/metrics", OPEN, "metrics", UNTRACED, plain(HttpOperatorRoutes::metrics)),
            get("/api/v1/whoami", OPERATOR, "whoami", UNTRACED, sync(HttpOperatorRoutes::whoami)),
            get("/api/v1/status", OPERATOR, "clusterStatus", MEMBER_LIST, plain(HttpOperatorRoutes::clusterStatus)),
            get("/api/v1/locks", OPERATOR, "listLocks", LOCK_LIST, sync(HttpOperatorRoutes::listLocks)),
            get("/api/v1/locks/{name*}", OPERATOR, "getLock", LOCK_DESCRIBE, sync(HttpOperatorRoutes::getLock)),
            get("/api/v1/sessions", OPERATOR, "listSessions", SESSION_LIST, sync(HttpOperatorRoutes::listSessions)),
            get("/api/v1/elections", OPERATOR, "listElections", ELECTION_LIST, sync(HttpOperatorRoutes::listElections)),
            get(
                    "/api/v1/elections/{name*}",
                    OPERATOR,
                    "getElection",
                    ELECTION_DESCRIBE,
                    sync(HttpOperatorRoutes::getElection)),
            post("/api/v1/revoke", OPERATOR, "revoke", LOCK_REVOKE, sync(HttpOperatorRoutes::revoke)),
            post("/api/v1/members/add", ADMIN, "addMember", MEMBER_CHANGE, sync(HttpOperatorRoutes::addMember)),
            post(
                    "/api/v1/members/remove",
                    ADMIN,
                    "removeMember",
                    MEMBER_CHANGE,
                    sync(HttpOperatorRoutes::removeMember)),
            post(
                    "/api/v1/members/promote",
                    ADMIN,
                    "promoteMember",
                    MEMBER_CHANGE,
                    sync(HttpOperatorRoutes::promoteMember)),
            post(
                    "/api/v1/members/transfer-leader",
                    ADMIN,
                    "transferLeader",
                    MEMBER_CHANGE,
                    sync(HttpOperatorRoutes::transferLeader)),
            streamed("/api/v1/backup", ADMIN, "takeBackup", HttpBackupRoute::takeBackup),
            post("/api/v1/sessions", CLIENT, "openSession", SESSION_OPEN, async(HttpClientRoutes::openSession)),
            post("/api/v1/sessions/{id}/keepalive", CLIENT, "keepAlive", UNTRACED, async(HttpClientRoutes::keepAlive)),
            post("/api/v1/sessions/{id}/end", CLIENT, "endSession", SESSION_CLOSE, async(HttpClientRoutes::endSession)),
            route(
                    "DELETE",
                    "/api/v1/sessions/{id}",
                    CLIENT,
                    "closeSession",
                    SESSION_CLOSE,
                    async(HttpClientRoutes::closeSession)),
            get(
                    "/api/v1/sessions/{id}/events",
                    CLIENT,
                    "sessionEvents",
                    UNTRACED,
                    async(HttpClientRoutes::sessionEvents)),
            post("/api/v1/acquire", CLIENT, "acquire", ACQUIRE, async(HttpClientRoutes::acquire)),
            post("/api/v1/acquire-all", CLIENT, "acquireAll", ACQUIRE, async(HttpClientRoutes::acquireAll)),
            post("/api/v1/release", CLIENT, "release", RELEASE, async(HttpClientRoutes::release)),
            post("/api/v1/renew", CLIENT, "renew", RENEW, async(HttpClientRoutes::renew)),
            post("/api/v1/cancel", CLIENT, "cancel", ACQUIRE_CANCEL, async(HttpClientRoutes::cancel)),
            get("/api/v1/fence", CLIENT, "fence", FENCE_CHECK, async(HttpClientRoutes::fence)),
            post("/api/v1/registers/set", CLIENT, "setRegister", REGISTER_SET, async(HttpClientRoutes::setRegister)),
            get(
                    "/api/v1/registers/{key*}",
                    CLIENT,
                    "readRegister",
                    REGISTER_READ,
                    async(HttpClientRoutes::readRegister)),
            post("/api/v1/keys/put", CLIENT, "putKey", KEY_TXN, async(HttpClientRoutes::putKey)),
            post("/api/v1/keys/delete", CLIENT, "deleteKey", KEY_DELETE, async(HttpClientRoutes::deleteKey)),
            post(
                    "/api/v1/keys/delete-prefix",
                    CLIENT,
                    "deleteKeyPrefix",
                    KEY_DELETE_PREFIX,
                    async(HttpClientRoutes::deletePrefix)),
            post("/api/v1/keys/add", CLIENT, "addCounter", KEY_ADD, async(HttpClientRoutes::addCounter)),
            get("/api/v1/keys/{key*}", CLIENT, "getKey", KEY_LIST, async(HttpClientRoutes::getKey)),
            get("/api/v1/keys", CLIENT, "listKeys", KEY_LIST, async(HttpClientRoutes::listKeys)),
            post("/api/v1/txn", CLIENT, "txn", KEY_TXN, async(HttpClientRoutes::txn)),
            get("/api/v1/watch", CLIENT, "watch", WATCH_POLL, async(HttpClientRoutes::watch)));

    private HttpRoutes() {}

    /** The rows of the first pattern that fits {@code rawPath}, and its variable (decoded), if any fits. */
    record Match(List<Route> rows, String param) {
        Optional<Route> forMethod(String method) {
            return rows.stream().filter(r -> r.takes(method)).findFirst();
        }

        /** {@code GET}, or {@code GET or POST}: what the pattern's rows take. */
        String methods() {
            return String.join(" or ", rows.stream().map(Route::method).toList());
        }
    }

    static Optional<Match> match(String rawPath) {
        for (Route route : TABLE) {
            String param = fit(route.path(), rawPath);
            if (param != null) {
                List<Route> rows = TABLE.stream()
                        .filter(r -> r.path().equals(route.path()))
                        .toList();
                return Optional.of(new Match(rows, HttpMessages.decode(param)));
            }
        }
        return Optional.empty();
    }

    /** The raw text the pattern's variable takes ({@code ""} without one), or null if the pattern does not fit. */
    private static String fit(String pattern, String rawPath) {
        String[] want = pattern.split("/", -1);
        String[] got = rawPath.split("/", -1);
        String param = "";
        for (int i = 0; i < want.length && i < got.length; i++) {
            if (want[i].endsWith("*}")) {
                return String.join("/", Arrays.copyOfRange(got, i, got.length));
            } else if (want[i].startsWith("{")) {
                param = got[i];
            } else if (!want[i].equals(got[i])) {
                return null;
            }
        }
        return want.length == got.length ? param : null;
    }

    private static Route get(String path, Audience audience, String operationId, SpanName span, Handler handler) {
        return route("GET", path, audience, operationId, span, handler);
    }

    private static Route post(String path, Audience audience, String operationId, SpanName span, Handler handler) {
        return route("POST", path, audience, operationId, span, handler);
    }

    private static Route route(
            String method, String path, Audience audience, String operationId, SpanName span, Handler handler) {
        return new Route(method, path, audience, operationId, span, handler, false);
    }

    /** A route answered as it is written, on the port's thread: its method only, no {@code HEAD}; not traced. */
    private static Route streamed(String path, Audience audience, String operationId, Streamer streamer) {
        return new Route(
                "GET",
                path,
                audience,
                operationId,
                UNTRACED,
                (h, r) -> {
                    streamer.stream(h.node(), r);
                    return CompletableFuture.completedFuture(null);
                },
                true);
    }

    /** What a streamed route does: writes its whole answer to the exchange, or throws before the first byte. */
    @FunctionalInterface
    interface Streamer {
        void stream(NodeParts node, Request r) throws IOException;
    }

    /** A handler of {@link HttpClientRoutes}: answers when the outcome is known. */
    private static Handler async(BiFunction<HttpClientRoutes, Request, CompletableFuture<Answer>> handler) {
        return (h, r) -> handler.apply(h.clients(), r);
    }

    /** A handler of {@link HttpOperatorRoutes}: answers at once. */
    private static Handler sync(BiFunction<HttpOperatorRoutes, Request, Answer> handler) {
        return (h, r) -> CompletableFuture.completedFuture(handler.apply(h.operators(), r));
    }

    /** A handler of {@link HttpOperatorRoutes} that reads nothing of the request: answers at once. */
    private static Handler plain(Function<HttpOperatorRoutes, Answer> handler) {
        return (h, r) -> CompletableFuture.completedFuture(handler.apply(h.operators()));
    }
}
