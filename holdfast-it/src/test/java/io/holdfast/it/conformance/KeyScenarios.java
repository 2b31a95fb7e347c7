package io.holdfast.it.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.holdfast.it.ServerProcesses;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The conformance scenarios of keys ({@code clients/CONFORMANCE.md}), run by {@link
 * ConformanceTest} for every client against its cluster: a transaction whose answer is lost
 * applies once, a session's attached keys vanish when it expires, with every watcher told, and a
 * prefix delete takes every key under its prefix and refuses an empty one.
 */
final class KeyScenarios {
    /** A new driver of a client (a process, or the Java client in the suite's JVM). */
    interface Drivers {
        Driver of(String client) throws Exception;
    }

    private static final Duration SLOW = Duration.ofSeconds(30);

    private final ServerProcesses cluster;
    private final Drivers drivers;
    private final HttpClient http = HttpClient.newHttpClient();

    KeyScenarios(ServerProcesses cluster, Drivers drivers) {
        this.cluster = cluster;
        this.drivers = drivers;
    }

    /**
     * A transaction's answer is lost on its way (the HTTP clients through a {@link DropProxy}, the
     * Java client through a {@link CutProxy}): the client sends it again under the same request id
     * and is answered with the first outcome ({@code then} ran), and the counter it added to was
     * added to once.
     */
    void txnRetryOnce(String client) throws Exception {
        String prefix = "conf/" + client + "/txn/";
        ObjectNode txn = Driver.op("txn").put("client", "c");
        txn.putArray("compares").addObject().put("type", "absent").put("key", prefix + "moved");
        ArrayNode then = txn.putArray("then");
        then.addObject().put("type", "put").put("key", prefix + "moved").put("value", "once");
        then.addObject().put("type", "add").put("key", prefix + "count").put("delta", 1);
        txn.putArray("otherwise").addObject().put("type", "get").put("key", prefix + "moved");
        int leader = cluster.awaitLeader(SLOW);
        JsonNode answer;
        if (client.equals("java")) {
            try (CutProxy proxy = new CutProxy(cluster.clientPort(leader));
                    Driver d = new JavaDriver(members -> "holdfast://127.0.0.1:" + proxy.port())) {
                open(d, "c", cluster.httpUrls());
                proxy.cutAfterNextRequest();
                answer = ok(d.call(txn, 60));
                assertThat(proxy.cut())
                        .as("a connection was cut after a request")
                        .isEqualTo(1);
            }
        } else {
            String url = cluster.httpUrl(leader);
            try (DropProxy proxy = new DropProxy(Integer.parseInt(url.substring(url.lastIndexOf(':') + 1)));
                    Driver d = drivers.of(client)) {
                open(d, "c", List.of(proxy.url()));
                proxy.dropNext("POST /api/v1/txn");
                answer = ok(d.call(txn, 60));
                assertThat(proxy.dropped()).as("an answer was lost").isEqualTo(1);
                assertThat(proxy.requests("POST /api/v1/txn"))
                        .as("and the transaction sent again")
                        .isGreaterThanOrEqualTo(2);
            }
        }
        assertThat(answer.path("succeeded").asBoolean())
                .as("the first outcome, not a second run's: %s", answer)
                .isTrue();
        assertThat(answer.path("results").path(1).path("counter").asLong()).isEqualTo(1);
        JsonNode count = key(cluster.awaitLeader(SLOW), prefix + "count");
        assertThat(count.path("version").asLong())
                .as("added to once: %s", count)
                .isEqualTo(1);
        assertThat(Base64.getDecoder().decode(count.path("value").asText()))
                .as("the counter's 8 bytes")
                .containsExactly(0, 0, 0, 0, 0, 0, 0, 1);
    }

    /**
     * A session puts two keys attached to it and one that is not; two other sessions watch the
     * prefix. The session is ended as if its heartbeats had stopped ({@code POST
     * /api/v1/sessions/{id}/end}): each watcher is told both attached keys' {@code registerDeleted}
     * with cause {@code sessionExpired} within seconds, and a listing then holds only the key that
     * was not attached.
     */
    void sessionKeysVanish(String client) throws Exception {
        String prefix = "conf/" + client + "/services/";
        try (Driver d = drivers.of(client)) {
            String owner =
                    open(d, "owner", cluster.httpUrls()).path("sessionId").asText();
            List<String> watches = List.of("w1", "w2");
            for (String w : watches) {
                open(d, w, cluster.httpUrls());
                ok(d.call(Driver.op("watch").put("client", w).put("watch", w).put("keys", prefix), 60));
            }
            Map<String, List<JsonNode>> states = watchLines(d, watches, 1);
            for (String w : watches) {
                JsonNode state = states.get(w).get(0);
                assertThat(state.path("type").asText()).as(state.toString()).isEqualTo("state");
                assertThat(state.path("keys")).as("no keys yet: %s", state).isEmpty();
            }
            for (String k : List.of("a", "b", "c")) {
                ok(d.call(
                        Driver.op("keyPut")
                                .put("client", "owner")
                                .put("key", prefix + k)
                                .put("value", "10.0.0.1:" + k)
                                .put("attach", !k.equals("c")),
                        30));
            }
            watchLines(d, watches, 3); // the three writes
            long ended = System.nanoTime();
            endSession(cluster, http, owner);
            Map<String, List<JsonNode>> told = watchLines(d, watches, 2);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - ended);
            for (String w : watches) {
                List<String> deleted = new ArrayList<>();
                for (JsonNode line : told.get(w)) {
                    deleted.add(
                            line.path("type").asText() + " " + line.path("name").asText() + " "
                                    + line.path("cause").asText("-") + " "
                                    + line.path("version").asLong());
                }
                assertThat(deleted)
                        .as("watcher %s is told both attached keys' deletion with its cause", w)
                        .containsExactlyInAnyOrder(
                                "registerDeleted " + prefix + "a sessionExpired 1",
                                "registerDeleted " + prefix + "b sessionExpired 1");
            }
            assertThat(millis).as("told within seconds of the end").isLessThan(5_000);
            JsonNode listed = ok(d.call(Driver.op("keyList").put("client", "w1").put("prefix", prefix), 30));
            List<String> left = new ArrayList<>();
            listed.path("keys").forEach(k -> left.add(k.path("key").asText()));
            assertThat(left).as("only the key that was not attached").containsExactly(prefix + "c");
            JsonNode gone = ok(d.call(Driver.op("keyGet").put("client", "w2").put("key", prefix + "a"), 30));
            assertThat(gone.path("version").asLong()).as(gone.toString()).isZero();
        }
    }

    /**
     * The next {@code count} lines of each watch of {@code watches}, by watch, in the order the
     * driver wrote them. Any other line fails.
     */
    private static Map<String, List<JsonNode>> watchLines(Driver d, List<String> watches, int count)
            throws InterruptedException {
        Map<String, List<JsonNode>> lines = new HashMap<>();
        watches.forEach(w -> lines.put(w, new ArrayList<>()));
        long deadline = System.nanoTime() + SLOW.toNanos();
        while (lines.values().stream().anyMatch(l -> l.size() < count)) {
            Driver.Report report = d.reports().poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            assertThat(report)
                    .as("%d watch lines each (so far %s)", count, lines)
                    .isNotNull();
            JsonNode line = report.line();
            assertThat(line.path("event").asText()).as(line.toString()).isEqualTo("watch");
            List<JsonNode> of = lines.get(line.path("watch").asText());
            assertThat(of).as("a line of an unknown watch: %s", line).isNotNull();
            assertThat(of).as("more lines than expected: %s", line).hasSizeLessThan(count);
            of.add(line);
        }
        return lines;
    }

    /**
     * A session writes two keys under a prefix, another session one attached to it, and the first
     * one beside the prefix; an empty prefix is refused by name, then the prefix is deleted: its
     * three keys go (the attached one as a single delete would take it), the one beside stays.
     */
    void prefixDelete(String client) throws Exception {
        String prefix = "conf/" + client + "/purge/";
        String beside = "conf/" + client + "/purged";
        try (Driver d = drivers.of(client)) {
            open(d, "a", cluster.httpUrls());
            open(d, "b", cluster.httpUrls());
            for (String k : List.of("x", "y")) {
                ok(d.call(put("a", prefix + k), 30));
            }
            ok(d.call(put("b", prefix + "z").put("attach", true), 30));
            ok(d.call(put("a", beside), 30));

            JsonNode refused =
                    d.call(Driver.op("keyDeletePrefix").put("client", "a").put("prefix", ""), 30);
            assertThat(refused.path("ok").asBoolean()).as("%s", refused).isFalse();
            assertThat(refused.path("error").asText()).isEqualTo("INVALID_ARGUMENT");
            assertThat(refused.path("message").asText())
                    .contains("a prefix delete needs a prefix: deleting every key at once is not offered");

            JsonNode deleted =
                    ok(d.call(Driver.op("keyDeletePrefix").put("client", "a").put("prefix", prefix), 30));
            assertThat(deleted.path("deleted").asLong()).as("%s", deleted).isEqualTo(3);
            JsonNode listed =
                    ok(d.call(Driver.op("keyList").put("client", "a").put("prefix", "conf/" + client + "/purge"), 30));
            assertThat(listed.path("keys").findValuesAsText("key")).containsExactly(beside);
        }
    }

    /**
     * Keys on a shared lease (ADR 0006): a writer puts two keys on another session of the driver (a
     * lease, of the same identity) and one attached to itself; a put on a lease that is not open is
     * a conflict and writes nothing. The writer closes: only its own key goes. The lease is ended
     * as if its heartbeats had stopped: its two keys go with it, and nothing is left.
     */
    void sharedLease(String client) throws Exception {
        String prefix = "conf/" + client + "/leased/";
        try (Driver d = drivers.of(client)) {
            String lease =
                    open(d, "lease", cluster.httpUrls()).path("sessionId").asText();
            String writer =
                    open(d, "writer", cluster.httpUrls()).path("sessionId").asText();
            for (String k : List.of("a", "b")) {
                ok(d.call(put("writer", prefix + k).put("lease", lease), 30));
            }
            ok(d.call(put("writer", prefix + "own").put("attach", true), 30));
            JsonNode a = ok(d.call(Driver.op("keyGet").put("client", "writer").put("key", prefix + "a"), 30));
            assertThat(a.path("owner").asText())
                    .as("the key is the lease's: %s", a)
                    .isEqualTo(lease);

            JsonNode refused = d.call(put("writer", prefix + "none").put("lease", "NotAnOpenSession00000x"), 30);
            assertThat(refused.path("ok").asBoolean()).as("%s", refused).isFalse();
            assertThat(refused.path("error").asText()).as("%s", refused).isEqualTo("CONFLICT");
            assertThat(refused.path("message").asText()).contains("is not an open session");

            ok(d.call(Driver.op("close").put("client", "writer"), 30));
            assertThat(keysUnder(d, "lease", prefix))
                    .as("the writer's end takes its own key only (writer %s)", writer)
                    .containsExactly(prefix + "a", prefix + "b");

            endSession(cluster, http, lease);
            open(d, "reader", cluster.httpUrls());
            assertThat(keysUnder(d, "reader", prefix))
                    .as("the lease's keys went with it")
                    .isEmpty();
        }
    }

    /** Ends the session at the leader as if its heartbeats had stopped ({@code POST /api/v1/sessions/{id}/end}). */
    static void endSession(ServerProcesses cluster, HttpClient http, String session) throws Exception {
        int leader = cluster.awaitLeader(SLOW);
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create(cluster.httpUrl(leader) + "/api/v1/sessions/" + session + "/end"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{}"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    private static List<String> keysUnder(Driver d, String client, String prefix) throws Exception {
        JsonNode listed = ok(d.call(Driver.op("keyList").put("client", client).put("prefix", prefix), 30));
        return listed.path("keys").findValuesAsText("key");
    }

    private static ObjectNode put(String client, String key) {
        return Driver.op("keyPut").put("client", client).put("key", key).put("value", "v");
    }

    static JsonNode ok(JsonNode answer) {
        assertThat(answer.path("ok").asBoolean()).as("answer %s", answer).isTrue();
        return answer;
    }

    static JsonNode open(Driver d, String client, List<String> members) throws Exception {
        return open(d, client, members, 10_000);
    }

    /** Opens the driver's client {@code client} on {@code members}, with a session of this TTL. */
    static JsonNode open(Driver d, String client, List<String> members, long ttlMillis) throws Exception {
        ObjectNode open = Driver.op("open").put("client", client).put("ttlMillis", ttlMillis);
        open.put("clientName", d.name() + "-conformance");
        members.forEach(open.putArray("members")::add);
        return ok(d.call(open, 30));
    }

    /** The key as node {@code node} answers {@code GET /api/v1/keys/{key}}. */
    private JsonNode key(int node, String key) throws Exception {
        String path = String.join(
                "/",
                java.util.Arrays.stream(key.split("/"))
                        .map(s -> URLEncoder.encode(s, StandardCharsets.UTF_8))
                        .toList());
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create(cluster.httpUrl(node) + "/api/v1/keys/" + path))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Driver.JSON.readTree(r.body());
    }
}
