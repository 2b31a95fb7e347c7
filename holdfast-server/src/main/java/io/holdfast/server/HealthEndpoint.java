package io.holdfast.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

/**
 * The HTTP side port, for load balancers and probes: {@code /health} (the process serves), {@code
 * /ready} (a leader is known, so requests can be served through this node's cluster), {@code
 * /status} (this node's role, leader, term and applied index, as JSON), {@code /digest} (the applied
 * index and a checksum of the lock table, to compare replicas). The dashboard and metrics
 * arrive in a later issue.
 */
final class HealthEndpoint implements AutoCloseable {
    private final HttpServer http;

    private HealthEndpoint(HttpServer http) {
        this.http = http;
    }

    static HealthEndpoint start(HoldfastServer node, String host, int port) throws IOException {
        HttpServer http = HttpServer.create(new InetSocketAddress(host, port), 64);
        http.setExecutor(Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "holdfast-http");
            t.setDaemon(true);
            return t;
        }));
        http.createContext("/health", ex -> respond(ex, 200, "{\"status\":\"up\"}"));
        http.createContext("/ready", ex -> {
            boolean ready = node.leaderId() != null;
            respond(ex, ready ? 200 : 503, "{\"ready\":" + ready + "}");
        });
        http.createContext("/status", ex -> respond(ex, 200, status(node)));
        // For verification: replicas that applied the same index must hold the same table.
        http.createContext("/digest", ex -> respond(ex, 200, "{\"digest\":\"" + node.tableDigest() + "\"}"));
        http.start();
        return new HealthEndpoint(http);
    }

    int port() {
        return http.getAddress().getPort();
    }

    private static String status(HoldfastServer node) {
        String leader = node.leaderId();
        return "{\"id\":\"" + node.config().nodeId() + "\",\"role\":\"" + (node.isLeader() ? "leader" : "follower")
                + "\",\"leader\":" + (leader == null ? "null" : "\"" + leader + "\"") + ",\"term\":" + node.term()
                + ",\"appliedIndex\":" + node.lastAppliedIndex() + "}";
    }

    private static void respond(HttpExchange ex, int code, String json) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        if (!"GET".equals(ex.getRequestMethod()) && !"HEAD".equals(ex.getRequestMethod())) {
            ex.sendResponseHeaders(405, -1);
            ex.close();
            return;
        }
        ex.sendResponseHeaders(code, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    @Override
    public void close() {
        http.stop(0);
    }
}
