package io.holdfast.it.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import io.holdfast.it.ServerProcesses;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * What {@link OutageTest} asks the service itself over HTTP, beside the clients: a key as one node
 * answers for it, whether the leader serves a write, and a lock's holders. A question put to the
 * leader is asked again, at the current leader, until it is answered, for up to {@code slow}: a
 * refusal or a timeout is never taken for an answer ("free", "absent").
 */
final class ServiceQuestions {
    private final HttpClient http = HttpClient.newHttpClient();
    private final Duration slow;

    ServiceQuestions(Duration slow) {
        this.slow = slow;
    }

    /**
     * One read of a key as a node answered it: the key (null unless 200) and what came back, in
     * words ({@code 200}, {@code 404}, {@code 503 <body>}, {@code no answer: <why>}).
     */
    record KeyRead(JsonNode key, String outcome) {}

    /**
     * The key as {@code node} answers for it within {@code timeout}: never fails; a refusal or a
     * timeout is a read without a key, saying why.
     */
    CompletableFuture<KeyRead> key(ServerProcesses cluster, int node, String key, Duration timeout) {
        return http.sendAsync(
                        HttpRequest.newBuilder(URI.create(cluster.httpUrl(node) + "/api/v1/keys/" + key))
                                .timeout(timeout)
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .thenApply(r -> {
                    if (r.statusCode() != 200) {
                        String body = r.body() == null ? "" : r.body();
                        return new KeyRead(
                                null,
                                r.statusCode()
                                        + (body.isEmpty()
                                                ? ""
                                                : " " + body.substring(0, Math.min(120, body.length()))));
                    }
                    try {
                        return new KeyRead(Driver.JSON.readTree(r.body()), "200");
                    } catch (IOException e) {
                        return new KeyRead(null, "200 that is not JSON: " + e.getMessage());
                    }
                })
                .exceptionally(e -> new KeyRead(
                        null,
                        "no answer: "
                                + (e.getCause() == null ? e : e.getCause())
                                        .getClass()
                                        .getSimpleName()));
    }

    /** The leader, once it has opened a session for the test (then ended). */
    int awaitServing(ServerProcesses cluster, int ttlMillis) throws Exception {
        return askLeader(
                cluster,
                "the service serves no write",
                node -> HttpRequest.newBuilder(URI.create(cluster.httpUrl(node) + "/api/v1/sessions"))
                        .timeout(Duration.ofSeconds(10))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(
                                "{\"clientName\":\"outage-probe\",\"ttlMillis\":" + ttlMillis + "}"))
                        .build(),
                50,
                (node, r) -> {
                    if (r.statusCode() != 200 && r.statusCode() != 201) {
                        return null;
                    }
                    String id = Driver.JSON.readTree(r.body()).path("sessionId").asText();
                    http.send(
                            HttpRequest.newBuilder(
                                            URI.create(cluster.httpUrl(node) + "/api/v1/sessions/" + id + "/end"))
                                    .timeout(Duration.ofSeconds(10))
                                    .header("Content-Type", "application/json")
                                    .POST(HttpRequest.BodyPublishers.ofString("{}"))
                                    .build(),
                            HttpResponse.BodyHandlers.discarding());
                    return node;
                });
    }

    /** What {@link #askLeader} makes of an answer: null to ask again. */
    private interface Answer<T> {
        T take(int node, HttpResponse<String> r) throws Exception;
    }

    /**
     * Sends {@code request} to the current leader until {@code answer} takes the reply, for up to
     * {@code slow}, {@code pauseMillis} apart; fails naming the last reply (a refusal or a timeout is
     * asked again, never taken for an answer).
     */
    private <T> T askLeader(
            ServerProcesses cluster,
            String failure,
            IntFunction<HttpRequest> request,
            long pauseMillis,
            Answer<T> answer)
            throws Exception {
        long deadline = System.nanoTime() + slow.toNanos();
        String last = "nothing asked";
        while (System.nanoTime() < deadline) {
            int node = cluster.awaitLeader(slow);
            try {
                HttpResponse<String> r = http.send(request.apply(node), HttpResponse.BodyHandlers.ofString());
                T taken = answer.take(node, r);
                if (taken != null) {
                    return taken;
                }
                last = "node " + node + " answered " + r.statusCode() + ": " + r.body();
            } catch (IOException e) {
                last = "node " + node + ": " + e;
            }
            TimeUnit.MILLISECONDS.sleep(pauseMillis);
        }
        throw new AssertionError(failure + " within " + slow + "; the last answer: " + last);
    }

    /**
     * The tokens of the lock's holders at the leader ({@code GET /api/v1/locks/{name}}); none when
     * it is free (404). Any other answer is asked again, at the leader then, for up to {@code slow}:
     * a refusal or a timeout is never taken for "free".
     */
    List<Long> holders(ServerProcesses cluster, String name) throws Exception {
        return askLeader(
                cluster,
                "no answer about " + name,
                node -> HttpRequest.newBuilder(URI.create(cluster.httpUrl(node) + "/api/v1/locks/" + name))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                500,
                (node, r) -> {
                    if (r.statusCode() == 404) {
                        return List.of();
                    }
                    if (r.statusCode() != 200) {
                        return null;
                    }
                    List<Long> out = new ArrayList<>();
                    Driver.JSON
                            .readTree(r.body())
                            .path("lock")
                            .path("holders")
                            .forEach(h -> out.add(h.path("token").asLong()));
                    return out;
                });
    }
}
