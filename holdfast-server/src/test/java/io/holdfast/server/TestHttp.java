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

    private TestHttp(HttpClient client, String base, String token, Duration timeout) {
        this.client = client;
        this.base = base;
        this.token = token;
        this.timeout = timeout;
    }

    /** Plain HTTP to {@code 127.0.0.1:port}, without credentials. */
    public static TestHttp plain(int port) {
        return new TestHttp(
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build(),
                "http://127.0.0.1:" + port,
                null,
                TIMEOUT);
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
                TIMEOUT);
    }

    /** The same, sending {@code Authorization: Bearer token} with every request. */
    TestHttp withToken(String token) {
        return new TestHttp(client, base, token, timeout);
    }

    /** The same, giving up on an answer after {@code timeout} (same connections). */
    TestHttp withTimeout(Duration timeout) {
        return new TestHttp(client, base, token, timeout);
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
        HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode json = null;
        String type = r.headers().firstValue("Content-Type").orElse("");
        if (type.startsWith("application/json")) {
            json = JSON.readTree(r.body());
        }
        return new Answer(r.statusCode(), r.body(), json, r);
    }
}
