package io.holdfast.server.http;

import static io.holdfast.server.http.HttpMessages.API;
import static io.holdfast.server.http.HttpMessages.error;
import static io.holdfast.server.http.HttpMessages.query;
import static io.holdfast.server.http.HttpMessages.requireRead;
import static io.holdfast.server.http.HttpMessages.send;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.holdfast.PermissionDeniedException;
import io.holdfast.endpoint.Authenticator;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.protocol.TlsFiles;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.config.ServerJvm;
import io.holdfast.server.http.HttpMessages.Answer;
import io.holdfast.server.http.HttpMessages.Refused;
import io.holdfast.server.http.HttpRoutes.Match;
import io.holdfast.server.http.HttpRoutes.Request;
import io.holdfast.server.http.HttpRoutes.Route;
import io.holdfast.server.node.NodeParts;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side port: the dashboard, the JSON API, Prometheus metrics, and the probes. See {@code
 * docs/http-api.md} for every route with examples.
 *
 * <ul>
 *   <li>Open to anyone who reaches the port: {@code /health} (the process serves), {@code /ready}
 *       (the node serves: Raft runs it and it knows a leader), {@code /status} (this node's role, leader, term, applied index),
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
 *
 * <p>This class serves the port by the table of its routes, {@link HttpRoutes}: the calls of
 * HTTP-only clients are answered by {@link HttpClientRoutes}, the operators', the dashboard's and
 * the probes' by {@link HttpOperatorRoutes}; what requests and answers share is {@link
 * HttpMessages}.
 */
public final class HttpEndpoint implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HttpEndpoint.class);

    private final HttpServer http;
    private final ExecutorService executor;
    private final NodeParts node;
    private final Authenticator authenticator;
    private final HttpClientRoutes clients;
    private final HttpRoutes.Handlers handlers;
    private final HttpTracing tracing = new HttpTracing();

    private HttpEndpoint(HttpServer http, ExecutorService executor, NodeParts node, Authenticator authenticator) {
        this.http = http;
        this.executor = executor;
        this.node = node;
        this.authenticator = authenticator;
        this.clients = new HttpClientRoutes(node);
        this.handlers = new HttpRoutes.Handlers(node, clients, new HttpOperatorRoutes(node, authenticator));
    }

    public static HttpEndpoint start(NodeParts node, String host, int port) throws IOException {
        ServerJvm.prepare(); // TCP_NODELAY, in case the hosting process did not call it first
        ServerConfig config = node.config();
        InetSocketAddress address = new InetSocketAddress(host, port);
        HttpServer http;
        if (config.tls() != null) {
            HttpsServer https = HttpsServer.create(address, 64);
            https.setHttpsConfigurator(
                    new HttpsConfigurator(config.tls().sslContext(node.authFailures()::refusedCertificate)) {
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
        ExecutorService executor = Executors.newFixedThreadPool(4, DaemonThreads.named("holdfast-http"));
        http.setExecutor(executor);
        HttpEndpoint endpoint = new HttpEndpoint(http, executor, node, node.authenticator());
        http.createContext("/", endpoint::handle);
        http.start();
        return endpoint;
    }

    public int port() {
        return http.getAddress().getPort();
    }

    // ------------------------------------------------------------------------------ dispatch

    /**
     * Answers one exchange by its row of {@link HttpRoutes#TABLE}. Its body is read first, whole, on
     * this thread ({@link HttpMessages#readWholeBody}). Most routes answer at once; a waiting
     * acquire answers later, from whichever thread learns its outcome, without holding one of the
     * port's threads meanwhile; a streamed route (a backup) takes this thread while it is sent.
     */
    private void handle(HttpExchange ex) {
        String path = ex.getRequestURI().getRawPath();
        Optional<Match> match = path == null ? Optional.empty() : HttpRoutes.match(path);
        if (match.isPresent() && match.get().rows().stream().anyMatch(Route::streamed)) {
            stream(ex, match.get());
            return;
        }
        CompletableFuture<Answer> answer;
        try {
            HttpMessages.readWholeBody(ex);
            answer = route(ex, path, match);
        } catch (IOException | RuntimeException e) {
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

    /** A streamed route: its method is checked before the caller's identity, and it writes its own answer. */
    private void stream(HttpExchange ex, Match match) {
        try {
            HttpMessages.readWholeBody(ex);
            Route row = match.forMethod(ex.getRequestMethod()).orElseThrow(() -> wrongMethod(ex, match));
            row.handler().handle(handlers, new Request(ex, identify(ex), match.param(), Map.of()));
        } catch (IOException | RuntimeException e) {
            try {
                send(ex, failure(ex, e));
            } catch (IOException | RuntimeException notSent) {
                LOG.debug("HTTP answer not sent", notSent);
            }
        } finally {
            ex.close();
        }
    }

    private Answer failure(HttpExchange ex, Throwable e) {
        Throwable cause =
                e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
        Refused r = cause instanceof Refused refused
                ? refused
                : HttpMessages.refusal(cause, node::leaderId, node::leaderHttpAddress);
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

    /**
     * A request by its row: the caller's identity first (but for the open routes), then the method,
     * then the query. A path no row takes is a dashboard file, or {@code 404}.
     */
    private CompletableFuture<Answer> route(HttpExchange ex, String path, Optional<Match> match) throws IOException {
        String method = ex.getRequestMethod();
        if (path == null) {
            throw new Refused(400, "INVALID_ARGUMENT", "no path");
        }
        if (match.isEmpty()) {
            if (path.startsWith(API)) {
                identify(ex);
                throw new Refused(404, "NOT_FOUND", "no such API route: " + path);
            }
            requireRead(method);
            return CompletableFuture.completedFuture(Dashboard.asset(path)
                    .map(a -> new Answer(200, a.contentType(), a.bytes(), Map.of("Cache-Control", "no-cache")))
                    .orElseThrow(() -> new Refused(404, "NOT_FOUND", "no such page: " + path)));
        }
        Match m = match.get();
        boolean open = m.rows().stream().allMatch(r -> r.audience() == HttpRoutes.Audience.OPEN);
        String identity = open ? null : identify(ex);
        Route row = m.forMethod(method).orElseThrow(() -> wrongMethod(ex, m));
        Map<String, String> query = open ? Map.of() : query(ex);
        Request request = new Request(ex, identity, m.param(), query);
        if (row.traced()) {
            return tracing.handle(row, request, handlers);
        }
        return row.handler().handle(handlers, request);
    }

    private static Refused wrongMethod(HttpExchange ex, Match match) {
        return new Refused(405, "METHOD_NOT_ALLOWED", "use " + match.methods() + " here, not " + ex.getRequestMethod());
    }

    /** The identity the request proves (token or client certificate); refused if it must and does not. */
    private String identify(HttpExchange ex) {
        String authorization = ex.getRequestHeaders().getFirst("Authorization");
        SSLSession tls = ex instanceof HttpsExchange https ? https.getSSLSession() : null;
        String from = Authenticator.host(ex.getRemoteAddress());
        String identity;
        try {
            identity = authenticator.identify(authorization, tls, from);
        } catch (PermissionDeniedException e) {
            throw new Refused(401, "PERMISSION_DENIED", e.getMessage());
        }
        if (identity == null && authenticator.required()) {
            authenticator.noCredentials(from);
            throw new Refused(
                    401,
                    "PERMISSION_DENIED",
                    "this server requires authentication: a bearer token (Authorization: Bearer TOKEN) or a"
                            + " client certificate");
        }
        return identity;
    }

    @Override
    public void close() {
        http.stop(0);
        executor.shutdownNow();
        clients.close();
    }
}
