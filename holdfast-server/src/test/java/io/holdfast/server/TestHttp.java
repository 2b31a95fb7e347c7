package io.holdfast.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import javax.net.ssl.SSLContext;

/** Real HTTP calls to a node's HTTP port, answers parsed as JSON. */
public final class TestHttp {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** An answer: the status, the body as text, and as JSON when it is JSON (else null). */
    public record Answer(int status, String body, JsonNode json, HttpResponse<String> response) {}

    /**
     * Generous: a write waits for fsyncs on a majority, and CI runs two modules' tests at once, with
     * databases fsyncing beside us.
     */
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final HttpClient client;
    private final String base;
    private final String token;
    private final Duration timeout;
    private final Duration leaderless;

    private TestHttp(HttpClient client, String base, String token, Duration timeout, Duration leaderless) {
        this.client = client;
        this.base = base;
        this.token = token;
        this.timeout = timeout;
        this.leaderless = leaderless;
    }

    /** Plain HTTP to {@code 127.0.0.1:port}, without credentials. */
    public static TestHttp plain(int port) {
        return new TestHttp(
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build(),
                "http://127.0.0.1:" + port,
                null,
                TIMEOUT,
                Duration.ZERO);
    }

    /** HTTPS to {@code 127.0.0.1:port} with this TLS context (trusting the test CA; maybe a client certificate). */
    static TestHttp https(int port, SSLContext tls) {
        return new TestHttp(
                HttpClient.newBuilder()
                        .sslContext(tls)
                        .connectTimeout(Duration.ofSeconds(5))
                        .build(),
                "https://127.0.0.1:" + port,
                null,
                TIMEOUT,
                Duration.ZERO);
    }

    /** The same, sending {@code Authorization: Bearer token} with every request. */
    TestHttp withToken(String token) {
        return new TestHttp(client, base, token, timeout, leaderless);
    }

    /**
     * The same, asking again for up to {@code patience} while the node answers {@code NOT_LEADER}
     * or {@code UNAVAILABLE}, as every HTTP client does: for tests of something else (the access
     * rules), run on a loaded machine where an election may start in the middle of the test. A
     * member that knows no leader answers so before the request has any effect; a leader that lost
     * its office with the write under way may not, so a test counting effects may still see one.
     */
    TestHttp askingAgainDuringElections(Duration patience) {
        return new TestHttp(client, base, token, timeout, patience);
    }

    /** The same, giving up on an answer after {@code timeout} (same connections). */
    TestHttp withTimeout(Duration timeout) {
        return new TestHttp(client, base, token, timeout, leaderless);
    }

    public Answer get(String path) throws IOException, InterruptedException {
        return send(request(path).GET());
    }

    Answer post(String path, String json) throws IOException, InterruptedException {
        return send(request(path)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    /** A GET whose answer may take a while (a long poll). */
    java.util.concurrent.CompletableFuture<Answer> getAsync(String path) {
        HttpRequest request =
                request(path).timeout(Duration.ofSeconds(60)).GET().build();
        return client.sendAsync(request, HttpResponse.BodyHandlers.ofString()).thenApply(r -> {
            try {
                return new Answer(r.statusCode(), r.body(), JSON.readTree(r.body()), r);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    /** A POST whose answer may take a while (a waiting acquire). */
    java.util.concurrent.CompletableFuture<Answer> postAsync(String path, String json) {
        HttpRequest request = request(path)
                .timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json))
                .build();
        return client.sendAsync(request, HttpResponse.BodyHandlers.ofString()).thenApply(r -> {
            try {
                return new Answer(r.statusCode(), r.body(), JSON.readTree(r.body()), r);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    Answer send(String method, String path, String contentType, String body) throws IOException, InterruptedException {
        HttpRequest.Builder b = request(path);
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        return send(b.method(
                method,
                body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body)));
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout);
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    private Answer send(HttpRequest.Builder b) throws IOException, InterruptedException {
        HttpRequest request = b.build();
        long deadline = System.nanoTime() + leaderless.toNanos();
        while (true) {
            Answer a = sendOnce(request);
            if (!duringElection(a) || System.nanoTime() - deadline >= 0) {
                return a;
            }
            Thread.sleep(200); // a real cluster's election, not a clock this test could move
        }
    }

    private static boolean duringElection(Answer a) {
        if (a.json() == null || !a.json().has("error")) {
            return false;
        }
        String code = a.json().get("error").path("code").asText();
        return code.equals("NOT_LEADER") || code.equals("UNAVAILABLE");
    }

    private Answer sendOnce(HttpRequest request) throws IOException, InterruptedException {
        HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
        JsonNode json = null;
        String type = r.headers().firstValue("Content-Type").orElse("");
        if (type.startsWith("application/json")) {
            json = JSON.readTree(r.body());
        }
        return new Answer(r.statusCode(), r.body(), json, r);
    }
}
