package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockLostException;
import io.holdfast.server.http.HttpMessages;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The JSON API and the metrics of one node, over real HTTP, with real clients holding and waiting
 * for locks through the gRPC port. Each test uses its own lock names.
 */
public class HttpApiTest {
    private static TestCluster cluster;
    private static TestHttp http;
    private static LockClient holder;
    private static LockClient waiter;

    @BeforeAll
    static void start() throws Exception {
        cluster = new TestCluster(1, Set.of(), null, null, true);
        cluster.awaitLeader(Duration.ofSeconds(20));
        http = TestHttp.plain(cluster.node(0).httpPort());
        holder = cluster.open(
                ClientOptions.builder().clientName("holder@host-a:11").build());
        waiter = cluster.open(
                ClientOptions.builder().clientName("waiter@host-b:22").build());
    }

    @AfterAll
    static void stop() throws Exception {
        cluster.close();
    }

    @Test
    void statusNamesTheLeaderAndEveryMember() throws Exception {
        JsonNode status = http.get("/api/v1/status").json();
        assertThat(status.get("id").asText()).isEqualTo("n1");
        assertThat(status.get("role").asText()).isEqualTo("leader");
        assertThat(status.get("leader").asText()).isEqualTo("n1");
        assertThat(status.get("term").asLong()).isPositive();
        assertThat(status.get("commitIndex").asLong())
                .isGreaterThanOrEqualTo(status.get("appliedIndex").asLong() - 1);
        assertThat(status.get("members")).hasSize(1);
        assertThat(status.get("members").get(0).get("role").asText()).isEqualTo("leader");
        assertThat(status.get("members").get(0).get("clientAddress").asText())
                .isEqualTo("127.0.0.1:" + cluster.node(0).clientPort());
        assertThat(http.get("/ready").status()).isEqualTo(200);
        assertThat(http.get("/health").json().get("status").asText()).isEqualTo("up");
    }

    @Test
    void statusShowsTheLastFencingTokenAsAnExactInteger() throws Exception {
        Lease lease = holder.lock("api/token").acquire(Duration.ofSeconds(5));
        TestHttp.Answer status = http.get("/api/v1/status");
        assertThat(status.json().get("lastToken").isIntegralNumber()).isTrue();
        assertThat(status.json().get("lastToken").asLong()).isGreaterThanOrEqualTo(lease.fencingToken());
        assertThat(status.body()).containsPattern("\"lastToken\":\\d+[,}]");
        lease.release();
    }

    @Test
    void aLockShowsItsHolderAndItsWaitersInQueueOrder() throws Exception {
        Lease lease = holder.lock("api/held").acquire(Duration.ofSeconds(5));
        LockClient second = cluster.open(
                ClientOptions.builder().clientName("second@host-c:33").build());
        CompletableFuture<Lease> first = waiter.lock("api/held").acquireAsync(Duration.ofSeconds(30));
        awaitWaiters("api/held", 1);
        CompletableFuture<Lease> then = second.lock("api/held").acquireAsync(Duration.ofSeconds(30));
        awaitWaiters("api/held", 2);
        Awaitility.await("the longest queue on /metrics")
                .atMost(Duration.ofSeconds(5))
                .until(() -> metric("holdfast_queue_longest{node=\"n1\"}") >= 2);

        JsonNode lock = http.get("/api/v1/locks/api/held").json().get("lock");
        assertThat(lock.get("name").asText()).isEqualTo("api/held");
        JsonNode h = lock.get("holders").get(0);
        assertThat(h.get("clientName").asText()).isEqualTo("holder@host-a:11");
        assertThat(h.get("host").asText()).isEqualTo("host-a");
        assertThat(h.get("sessionId").asText()).isEqualTo(holder.sessionId());
        assertThat(h.get("token").asLong()).isEqualTo(lease.fencingToken());
        assertThat(h.get("mode").asText()).isEqualTo("exclusive");
        assertThat(lock.get("waiters").get(0).get("clientName").asText()).isEqualTo("waiter@host-b:22");
        assertThat(lock.get("waiters").get(1).get("clientName").asText()).isEqualTo("second@host-c:33");
        assertThat(lock.get("waiters").get(0).get("timeLeftMillis").asLong()).isBetween(1L, 30_000L);
        // percent-encoded names work too
        assertThat(http.get("/api/v1/locks/api%2Fheld")
                        .json()
                        .get("lock")
                        .get("name")
                        .asText())
                .isEqualTo("api/held");

        lease.release();
        first.get(10, TimeUnit.SECONDS).release();
        then.get(10, TimeUnit.SECONDS).release();
        assertThat(http.get("/api/v1/locks/api/held").status()).isEqualTo(404);
    }

    @Test
    void locksArePagedInNameOrderAndFilteredByPrefix() throws Exception {
        List<Lease> leases = new ArrayList<>();
        for (String n : List.of("page/e", "page/a", "page/d", "page/b", "page/c", "pager/x")) {
            leases.add(holder.lock(n).acquire(Duration.ofSeconds(5)));
        }
        List<String> seen = new ArrayList<>();
        String after = null;
        int pages = 0;
        do {
            JsonNode page = http.get("/api/v1/locks?prefix=page/&limit=2" + (after == null ? "" : "&after=" + after))
                    .json();
            assertThat(page.get("linearizable").asBoolean()).isTrue();
            page.get("locks").forEach(l -> seen.add(l.get("name").asText()));
            after = page.get("next").isNull() ? null : page.get("next").asText();
            pages++;
        } while (after != null && pages < 10);
        assertThat(seen).containsExactly("page/a", "page/b", "page/c", "page/d", "page/e");
        assertThat(pages).isEqualTo(3);
        for (Lease l : leases) {
            l.release();
        }
    }

    @Test
    void sessionsShowTheirClientTtlAndWhatTheyHold() throws Exception {
        Lease lease = holder.lock("api/session").acquire(Duration.ofSeconds(5));
        JsonNode mine = null;
        for (JsonNode s : http.get("/api/v1/sessions?limit=1000").json().get("sessions")) {
            if (s.get("id").asText().equals(holder.sessionId())) {
                mine = s;
            }
        }
        assertThat(mine).as("the holder's session is listed").isNotNull();
        assertThat(mine.get("clientName").asText()).isEqualTo("holder@host-a:11");
        assertThat(mine.get("holds").asInt()).isGreaterThanOrEqualTo(1);
        assertThat(mine.get("ttlMillis").asLong())
                .isEqualTo(ClientOptions.defaults().sessionTtl().toMillis());
        assertThat(mine.get("ttlLeftMillis").asLong())
                .isBetween(1L, mine.get("ttlMillis").asLong());
        lease.release();
    }

    @Test
    void revokeTakesTheLockAwayAndTheNextWaiterGetsIt() throws Exception {
        Lease lease = holder.lock("api/revoke").acquire(Duration.ofSeconds(5));
        CompletableFuture<LockLostException> lost = new CompletableFuture<>();
        lease.onLost(lost::complete);
        CompletableFuture<Lease> next = waiter.lock("api/revoke").acquireAsync(Duration.ofSeconds(30));
        awaitWaiters("api/revoke", 1);

        TestHttp.Answer revoked = http.post("/api/v1/revoke", "{\"name\":\"api/revoke\"}");
        assertThat(revoked.status()).as(revoked.body()).isEqualTo(200);
        assertThat(revoked.json().get("revoked").asLong()).isEqualTo(1);

        assertThat(lost.get(10, TimeUnit.SECONDS)).hasMessageContaining("revoked");
        Lease taken = next.get(10, TimeUnit.SECONDS);
        assertThat(taken.fencingToken()).isGreaterThan(lease.fencingToken());
        assertThat(holder.admin().isCurrentHolder("api/revoke", lease.fencingToken()))
                .isFalse();
        taken.release();
    }

    @Test
    void badRequestsGetTypedErrorsAndTheNodeServesOn() throws Exception {
        assertError(http.post("/api/v1/revoke", "{not json"), 400, "INVALID_ARGUMENT");
        assertError(http.post("/api/v1/revoke", "[1,2]"), 400, "INVALID_ARGUMENT");
        assertError(http.post("/api/v1/revoke", "{}"), 400, "INVALID_ARGUMENT");
        assertError(http.post("/api/v1/revoke", "{\"name\":42}"), 400, "INVALID_ARGUMENT");
        assertError(http.post("/api/v1/revoke", "{\"name\":\"a/../b\"}"), 400, "INVALID_ARGUMENT");
        assertError(http.post("/api/v1/revoke", "{\"name\":\"\"}"), 400, "INVALID_ARGUMENT");
        assertError(http.send("POST", "/api/v1/revoke", "text/plain", "{\"name\":\"x\"}"), 415, "INVALID_ARGUMENT");
        assertError(http.send("POST", "/api/v1/revoke", null, "{\"name\":\"x\"}"), 415, "INVALID_ARGUMENT");
        assertError(
                http.post("/api/v1/revoke", "{\"name\":\"" + "x".repeat(HttpMessages.MAX_BODY) + "\"}"),
                413,
                "INVALID_ARGUMENT");
        assertError(http.get("/api/v1/revoke"), 405, "METHOD_NOT_ALLOWED");
        assertError(http.send("DELETE", "/api/v1/locks", null, null), 405, "METHOD_NOT_ALLOWED");
        assertError(http.get("/api/v1/locks?limit=0"), 400, "INVALID_ARGUMENT");
        assertError(http.get("/api/v1/locks?limit=1001"), 400, "INVALID_ARGUMENT");
        assertError(http.get("/api/v1/locks?limit=abc"), 400, "INVALID_ARGUMENT");
        assertError(http.get("/api/v1/nothing"), 404, "NOT_FOUND");
        assertError(http.get("/nothing"), 404, "NOT_FOUND");
        assertError(http.get("/api/v1/locks/no/such/lock"), 404, "NOT_FOUND");

        Lease lease = holder.lock("api/after-garbage").acquire(Duration.ofSeconds(5));
        assertThat(http.get("/api/v1/locks/api/after-garbage").status()).isEqualTo(200);
        lease.release();
    }

    @Test
    void metricsCountGrantsReleasesAndRevokesAndShowTheTable() throws Exception {
        double grants = metric("holdfast_grants_total{node=\"n1\",waited=\"false\"}");
        double releases = metric("holdfast_releases_total{node=\"n1\"}");
        for (int i = 0; i < 3; i++) {
            holder.lock("api/metrics").acquire(Duration.ofSeconds(5)).release();
        }
        Lease held = holder.lock("api/metrics-held").acquire(Duration.ofSeconds(5));
        String text = http.get("/metrics").body();
        assertThat(metric(text, "holdfast_grants_total{node=\"n1\",waited=\"false\"}"))
                .isEqualTo(grants + 4);
        assertThat(metric(text, "holdfast_releases_total{node=\"n1\"}")).isEqualTo(releases + 3);
        assertThat(metric(text, "holdfast_raft_is_leader{node=\"n1\"}")).isEqualTo(1);
        // the table's gauges are read at most once a second
        Awaitility.await("the gauges show the held lock and the sessions")
                .atMost(Duration.ofSeconds(5))
                .until(() ->
                        metric("holdfast_holds{node=\"n1\"}") >= 1 && metric("holdfast_sessions{node=\"n1\"}") >= 2);
        assertThat(text)
                .contains("holdfast_requests_seconds_bucket{command=\"acquire\",node=\"n1\",outcome=\"granted\"")
                .contains("holdfast_raft_commit_seconds_count")
                .contains("holdfast_refusals_total{node=\"n1\",reason=\"waiters-per-lock\"}")
                .contains("holdfast_unparsable_requests_total{node=\"n1\"}")
                .contains("jvm_memory_used_bytes");
        held.release();
    }

    @Test
    void aSimpleClientOpensASessionAcquiresWaitsAndReleasesOverHttp() throws Exception {
        TestHttp.Answer opened =
                http.post("/api/v1/sessions", "{\"clientName\":\"curl@script-host:7\",\"ttlMillis\":15000}");
        assertThat(opened.status()).as(opened.body()).isEqualTo(201);
        String first = opened.json().get("sessionId").asText();
        String second =
                http.post("/api/v1/sessions", "{}").json().get("sessionId").asText();
        assertThat(first).hasSizeGreaterThanOrEqualTo(22).isNotEqualTo(second);

        TestHttp.Answer granted =
                http.post("/api/v1/acquire", "{\"session\":\"" + first + "\",\"name\":\"http/simple\"}");
        assertThat(granted.status()).as(granted.body()).isEqualTo(200);
        long token = granted.json().get("token").asLong();
        assertThat(token).isPositive();
        assertThat(holder.admin().isCurrentHolder("http/simple", token)).isTrue();
        JsonNode lock = http.get("/api/v1/locks/http/simple").json().get("lock");
        assertThat(lock.get("holders").get(0).get("clientName").asText()).isEqualTo("curl@script-host:7");

        assertError(
                http.post("/api/v1/acquire", "{\"session\":\"" + second + "\",\"name\":\"http/simple\"}"),
                409,
                "TIMEOUT");
        CompletableFuture<TestHttp.Answer> waiting = http.postAsync(
                "/api/v1/acquire", "{\"session\":\"" + second + "\",\"name\":\"http/simple\",\"waitMillis\":20000}");
        awaitWaiters("http/simple", 1);
        assertThat(waiting).isNotDone();
        assertThat(http.post("/api/v1/sessions/" + first + "/keepalive", "{}").status())
                .isEqualTo(200);

        TestHttp.Answer released = http.post(
                "/api/v1/release", "{\"session\":\"" + first + "\",\"name\":\"http/simple\",\"token\":" + token + "}");
        assertThat(released.status()).as(released.body()).isEqualTo(200);
        TestHttp.Answer handedOver = waiting.get(10, TimeUnit.SECONDS);
        assertThat(handedOver.status()).as(handedOver.body()).isEqualTo(200);
        assertThat(handedOver.json().get("token").asLong()).isGreaterThan(token);

        assertError(
                http.post(
                        "/api/v1/release",
                        "{\"session\":\"" + first + "\",\"name\":\"http/simple\",\"token\":" + token + "}"),
                409,
                "NOT_OWNER");
        assertThat(http.send("DELETE", "/api/v1/sessions/" + second, null, null).status())
                .isEqualTo(200);
        assertThat(http.get("/api/v1/locks/http/simple").status())
                .as("closing released it")
                .isEqualTo(404);
        assertThat(http.send("DELETE", "/api/v1/sessions/" + first, null, null).status())
                .isEqualTo(200);
        assertError(
                http.post("/api/v1/acquire", "{\"session\":\"" + first + "\",\"name\":\"http/simple\"}"),
                410,
                "SESSION_EXPIRED");
    }

    @Test
    void anHttpClientKeepsALockForSeveralTtlsAndLeaseTimeoutsByKeepAliveAndRenew() throws Exception {
        String session = http.post("/api/v1/sessions", "{\"clientName\":\"renewing.sh\",\"ttlMillis\":1000}")
                .json()
                .get("sessionId")
                .asText();
        TestHttp.Answer granted = http.post(
                "/api/v1/acquire", "{\"session\":\"" + session + "\",\"name\":\"http/renewed\",\"leaseMillis\":1000}");
        assertThat(granted.status()).as(granted.body()).isEqualTo(200);
        long token = granted.json().get("token").asLong();
        String grant = "{\"session\":\"" + session + "\",\"name\":\"http/renewed\",\"token\":" + token + "}";
        java.util.concurrent.ScheduledExecutorService client =
                java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        java.util.concurrent.atomic.AtomicInteger renewFailures = new java.util.concurrent.atomic.AtomicInteger();
        try {
            // What a script does: a heartbeat and a renewal every 250 ms, a quarter of both timeouts.
            client.scheduleWithFixedDelay(
                    () -> {
                        try {
                            http.post("/api/v1/sessions/" + session + "/keepalive", "{}");
                            if (http.post("/api/v1/renew", grant).status() != 200) {
                                renewFailures.incrementAndGet();
                            }
                        } catch (Exception e) {
                            renewFailures.incrementAndGet();
                        }
                    },
                    0,
                    250,
                    TimeUnit.MILLISECONDS);
            Awaitility.await("held through four session TTLs and four lease timeouts")
                    .during(Duration.ofSeconds(4))
                    .atMost(Duration.ofSeconds(8))
                    .until(() -> holder.admin().isCurrentHolder("http/renewed", token));
            assertThat(renewFailures.get()).isZero();
        } finally {
            client.shutdownNow();
            client.awaitTermination(5, TimeUnit.SECONDS);
        }

        // Heartbeats alone keep the session but not a grant with a lease timeout.
        client = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        try {
            client.scheduleWithFixedDelay(
                    () -> {
                        try {
                            http.post("/api/v1/sessions/" + session + "/keepalive", "{}");
                        } catch (Exception e) {
                            // the assertions below fail if the session is lost
                        }
                    },
                    0,
                    250,
                    TimeUnit.MILLISECONDS);
            Awaitility.await("the lease ran out")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> !holder.admin().isCurrentHolder("http/renewed", token));
            assertError(http.post("/api/v1/renew", grant), 409, "NOT_OWNER");
            assertThat(http.post("/api/v1/sessions/" + session + "/keepalive", "{}")
                            .status())
                    .as("the session lives on")
                    .isEqualTo(200);
        } finally {
            client.shutdownNow();
            client.awaitTermination(5, TimeUnit.SECONDS);
        }
        http.send("DELETE", "/api/v1/sessions/" + session, null, null);
    }

    @Test
    void aWaitOverHttpThatRunsOutIsATimeout() throws Exception {
        Lease lease = holder.lock("http/timeout").acquire(Duration.ofSeconds(5));
        String session =
                http.post("/api/v1/sessions", "{}").json().get("sessionId").asText();
        long start = System.nanoTime();
        TestHttp.Answer a = http.postAsync(
                        "/api/v1/acquire",
                        "{\"session\":\"" + session + "\",\"name\":\"http/timeout\",\"waitMillis\":700}")
                .get(10, TimeUnit.SECONDS);
        assertError(a, 409, "TIMEOUT");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(600));
        lease.release();
        http.send("DELETE", "/api/v1/sessions/" + session, null, null);
    }

    @Test
    void badSimpleClientRequestsAreRefused() throws Exception {
        String session =
                http.post("/api/v1/sessions", "{}").json().get("sessionId").asText();
        assertError(http.post("/api/v1/sessions", "{\"ttlMillis\":5}"), 400, "INVALID_ARGUMENT");
        assertError(http.post("/api/v1/sessions", "{\"ttlMillis\":-1}"), 400, "INVALID_ARGUMENT");
        assertError(http.post("/api/v1/acquire", "{\"name\":\"x\"}"), 400, "INVALID_ARGUMENT");
        assertError(
                http.post("/api/v1/acquire", "{\"session\":\"" + session + "\",\"name\":\"x\",\"mode\":\"sideways\"}"),
                400,
                "INVALID_ARGUMENT");
        assertError(
                http.post("/api/v1/acquire", "{\"session\":\"" + session + "\",\"name\":\"x\",\"waitMillis\":1.5}"),
                400,
                "INVALID_ARGUMENT");
        assertError(
                http.post("/api/v1/acquire", "{\"session\":\"" + session + "\",\"name\":\"a/../b\"}"),
                400,
                "INVALID_ARGUMENT");
        assertError(
                http.post("/api/v1/acquire", "{\"session\":\"no-such-session-0000000\",\"name\":\"x\"}"),
                410,
                "SESSION_EXPIRED");
        assertError(
                http.post("/api/v1/release", "{\"session\":\"" + session + "\",\"name\":\"x\"}"),
                400,
                "INVALID_ARGUMENT");
        assertError(http.get("/api/v1/acquire"), 405, "METHOD_NOT_ALLOWED");
        assertThat(http.send("DELETE", "/api/v1/sessions/" + session, null, null)
                        .status())
                .isEqualTo(200);
    }

    @Test
    void aMisspeltFieldOfALockRequestIsRefusedByNameAndNothingHappens() throws Exception {
        assertMessage(
                http.post("/api/v1/sessions", "{\"ttl\":5000}"),
                "\"ttl\" is not a field of POST /api/v1/sessions; its fields: clientName, ttlMillis, lockDelayMillis,"
                        + " sessionId");
        String s = http.post("/api/v1/sessions", "{\"clientName\":null}")
                .json()
                .get("sessionId")
                .asText();
        String session = "{\"session\":\"" + s + "\",";
        // A wait of 5 s misspelt would have been a try that does not wait: refused, nothing taken.
        assertMessage(
                http.post("/api/v1/acquire", session + "\"name\":\"http/typo/a\",\"waitMilis\":5000}"),
                "\"waitMilis\" is not a field of POST /api/v1/acquire; its fields: session, requestId, ackedBelow,"
                        + " name, mode, permits, maxPermits, owner, waitMillis, leaseMillis");
        assertThat(http.get("/api/v1/locks/http/typo/a").status())
                .as("nothing was taken")
                .isEqualTo(404);
        assertMessage(
                http.post("/api/v1/acquire-all", session + "\"names\":[\"http/typo/a\"],\"lease\":100}"),
                "\"lease\" is not a field of POST /api/v1/acquire-all");
        TestHttp.Answer granted = http.post("/api/v1/acquire", session + "\"name\":\"http/typo/a\",\"owner\":null}");
        assertThat(granted.status()).as(granted.body()).isEqualTo(200);
        long token = granted.json().get("token").asLong();
        assertMessage(
                http.post("/api/v1/release", session + "\"name\":\"http/typo/a\",\"tokn\":" + token + "}"),
                "\"tokn\" is not a field of POST /api/v1/release; its fields: session, requestId, ackedBelow, name,"
                        + " token");
        assertMessage(
                http.post("/api/v1/renew", session + "\"name\":\"http/typo/a\",\"tokn\":" + token + "}"),
                "\"tokn\" is not a field of POST /api/v1/renew");
        assertMessage(
                http.post("/api/v1/cancel", session + "\"name\":\"http/typo/a\",\"waitRequestID\":1}"),
                "\"waitRequestID\" is not a field of POST /api/v1/cancel");
        assertMessage(
                http.post("/api/v1/revoke", "{\"name\":\"http/typo/a\",\"token\":" + token + "}"),
                "\"token\" is not a field of POST /api/v1/revoke; its fields: name");
        assertThat(holder.admin().isCurrentHolder("http/typo/a", token))
                .as("neither the misspelt release nor the revoke took the lock away")
                .isTrue();
        assertMessage(
                http.post(
                        "/api/v1/registers/set",
                        session + "\"key\":\"http/typo/r\",\"value\":\"\",\"expectedVersoin\":3}"),
                "\"expectedVersoin\" is not a field of POST /api/v1/registers/set");
        assertThat(http.get("/api/v1/registers/http/typo/r").status())
                .as("nothing was written")
                .isEqualTo(404);
        assertMessage(
                http.post("/api/v1/members/remove", "{\"member\":\"n1\"}"),
                "\"member\" is not a field of POST /api/v1/members/remove; its fields: id");
        assertMessage(
                http.post("/api/v1/members/transfer-leader", "{\"to\":\"n1\"}"),
                "\"to\" is not a field of POST /api/v1/members/transfer-leader");
        assertMessage(
                http.post(
                        "/api/v1/members/add",
                        "{\"id\":\"n2\",\"raftAddress\":\"127.0.0.1:1\",\"clientAdress\":\"127.0.0.1:2\"}"),
                "\"clientAdress\" is not a field of POST /api/v1/members/add");
        assertThat(http.get("/api/v1/status").json().get("members")).hasSize(1);
        TestHttp.Answer released =
                http.post("/api/v1/release", session + "\"name\":\"http/typo/a\",\"token\":" + token + "}");
        assertThat(released.status()).as(released.body()).isEqualTo(200);
    }

    /** A 400 INVALID_ARGUMENT whose message starts with {@code message}. */
    private static void assertMessage(TestHttp.Answer a, String message) {
        assertError(a, 400, "INVALID_ARGUMENT");
        assertThat(a.json().get("error").get("message").asText()).startsWith(message);
    }

    @Test
    void everyRouteOfTheOpenApiDescriptionExists() throws Exception {
        JsonNode spec = http.get("/api/openapi.json").json();
        assertThat(spec.get("openapi").asText()).startsWith("3.");
        int checked = 0;
        for (var p : spec.get("paths").properties()) {
            String concrete = p.getKey()
                    .replace("{name}", "no/such/lock")
                    .replace("{key}", "no/such/register")
                    .replace("{id}", "x".repeat(22));
            for (var op : p.getValue().properties()) {
                String method = op.getKey().toUpperCase(java.util.Locale.ROOT);
                TestHttp.Answer a = method.equals("GET")
                        ? http.get(concrete)
                        : http.send(method, concrete, "application/json", method.equals("DELETE") ? null : "{}");
                assertThat(a.status())
                        .as(method + " " + concrete + ": " + a.body())
                        .isNotIn(405, 500);
                if (a.status() == 404) {
                    assertThat(a.json().get("error").get("message").asText())
                            .as(method + " " + concrete)
                            .doesNotStartWith("no such");
                }
                checked++;
            }
        }
        assertThat(checked).isGreaterThanOrEqualTo(22);
    }

    /** One request and the answer it must get: {@code status CODE message}, or the status alone for a success. */
    private record Case(String method, String path, String contentType, String body, String expected) {
        static Case of(String method, String path, String expected) {
            return new Case(
                    method,
                    path,
                    method.equals("POST") ? "application/json" : null,
                    method.equals("POST") ? "{}" : null,
                    expected);
        }
    }

    @Test
    void whatNoRouteServesIsRefusedWithItsReason() throws Exception {
        String id = "x".repeat(22);
        List<Case> cases = List.of(
                Case.of("POST", "/health", "405 METHOD_NOT_ALLOWED use GET here, not POST"),
                Case.of("HEAD", "/health", "200"),
                Case.of("GET", "/digest", "200"),
                Case.of("POST", "/nosuch", "405 METHOD_NOT_ALLOWED use GET here, not POST"),
                Case.of("GET", "/nosuch", "404 NOT_FOUND no such page: /nosuch"),
                Case.of("GET", "/api/v1", "404 NOT_FOUND no such page: /api/v1"),
                Case.of("GET", "/api/openapi.json", "200"),
                Case.of("GET", "/api/v1/nosuch", "404 NOT_FOUND no such API route: /api/v1/nosuch"),
                Case.of("POST", "/api/v1/nosuch", "404 NOT_FOUND no such API route: /api/v1/nosuch"),
                Case.of("DELETE", "/api/v1/sessions", "405 METHOD_NOT_ALLOWED use GET or POST here, not DELETE"),
                Case.of("PUT", "/api/v1/sessions/" + id, "405 METHOD_NOT_ALLOWED use DELETE here, not PUT"),
                Case.of(
                        "GET",
                        "/api/v1/sessions/" + id + "/nosuch",
                        "404 NOT_FOUND no such API route: /api/v1/sessions/" + id + "/nosuch"),
                Case.of(
                        "GET",
                        "/api/v1/sessions/" + id + "/keepalive",
                        "405 METHOD_NOT_ALLOWED use POST here, not GET"),
                Case.of("GET", "/api/v1/sessions/" + id + "/end", "405 METHOD_NOT_ALLOWED use POST here, not GET"),
                Case.of("POST", "/api/v1/sessions/" + id + "/events", "405 METHOD_NOT_ALLOWED use GET here, not POST"),
                Case.of("GET", "/api/v1/members/nosuch", "404 NOT_FOUND no such API route: /api/v1/members/nosuch"),
                Case.of("POST", "/api/v1/members/nosuch", "404 NOT_FOUND no such API route: /api/v1/members/nosuch"),
                Case.of("GET", "/api/v1/registers/set", "405 METHOD_NOT_ALLOWED use POST here, not GET"),
                Case.of("POST", "/api/v1/registers/k", "405 METHOD_NOT_ALLOWED use GET here, not POST"),
                Case.of(
                        "GET",
                        "/api/v1/registers/never/written",
                        "404 NOT_FOUND register never/written was never written"),
                Case.of("GET", "/api/v1/revoke", "405 METHOD_NOT_ALLOWED use POST here, not GET"),
                Case.of("POST", "/api/v1/whoami", "405 METHOD_NOT_ALLOWED use GET here, not POST"),
                Case.of("HEAD", "/api/v1/whoami", "200"),
                Case.of(
                        "GET",
                        "/api/v1/whoami?q=" + "a".repeat(5000),
                        "414 INVALID_ARGUMENT the query is longer than 4096 characters"),
                Case.of("POST", "/api/v1/elections/e", "405 METHOD_NOT_ALLOWED use GET here, not POST"),
                Case.of(
                        "GET",
                        "/api/v1/elections/nobody/leads",
                        "404 NOT_FOUND nobody leads the election nobody/leads now"),
                Case.of(
                        "GET",
                        "/api/v1/locks/no/such/lock",
                        "404 NOT_FOUND no lock no/such/lock is held or waited for"),
                new Case(
                        "POST",
                        "/api/v1/acquire",
                        "text/plain",
                        "{}",
                        "415 INVALID_ARGUMENT send the body as Content-Type: application/json"),
                Case.of("POST", "/api/v1/acquire", "400 INVALID_ARGUMENT the body needs \"session\""),
                Case.of("POST", "/api/v1/backup", "405 METHOD_NOT_ALLOWED use GET here, not POST"),
                Case.of("HEAD", "/api/v1/backup", "405"),
                Case.of("GET", "/api/v1/backup/", "404 NOT_FOUND no such API route: /api/v1/backup/"));
        List<String> wrong = new ArrayList<>();
        for (Case c : cases) {
            TestHttp.Answer a = http.send(c.method(), c.path(), c.contentType(), c.body());
            String got = a.status() < 300 || a.body().isEmpty()
                    ? String.valueOf(a.status())
                    : a.json() == null || !a.json().has("error")
                            ? a.status() + " " + a.body()
                            : a.status() + " "
                                    + a.json().get("error").get("code").asText() + " "
                                    + a.json().get("error").get("message").asText();
            if (!got.equals(c.expected())) {
                wrong.add(c.method() + " " + c.path() + ": " + got);
            }
        }
        assertThat(wrong).isEmpty();
    }

    private static double metric(String name) throws Exception {
        return metric(http.get("/metrics").body(), name);
    }

    private static double metric(String text, String name) {
        for (String line : text.split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1).trim());
            }
        }
        return 0;
    }

    @Test
    void membersChangeThroughTheLeaderAndWhatMakesNoSenseIsRefused() throws Exception {
        TestHttp.Answer same = http.post("/api/v1/members/transfer-leader", "{\"id\":\"n1\"}");
        assertThat(same.status()).as(same.body()).isEqualTo(200);
        assertThat(same.json().get("members").get(0).get("id").asText()).isEqualTo("n1");

        assertError(http.post("/api/v1/members/remove", "{\"id\":\"n1\"}"), 400, "INVALID_ARGUMENT");
        assertError(http.post("/api/v1/members/remove", "{\"id\":\"n9\"}"), 400, "INVALID_ARGUMENT");
        assertError(http.post("/api/v1/members/promote", "{\"id\":\"n1\"}"), 400, "INVALID_ARGUMENT");
        assertError(http.post("/api/v1/members/transfer-leader", "{}"), 400, "INVALID_ARGUMENT");
        assertError(http.post("/api/v1/members/add", "{\"id\":\"n2\"}"), 400, "INVALID_ARGUMENT");
        assertError(
                http.post(
                        "/api/v1/members/add",
                        "{\"id\":\"n2\",\"raftAddress\":\"127.0.0.1:1\",\"clientAddress\":\"127.0.0.1:2\","
                                + "\"learner\":\"yes\"}"),
                400,
                "INVALID_ARGUMENT");
        TestHttp.Answer nobody = http.post(
                "/api/v1/members/add",
                "{\"id\":\"n2\",\"raftAddress\":\"127.0.0.1:1\",\"clientAddress\":\"127.0.0.1:2\"}");
        assertError(nobody, 409, "CONFLICT");
        assertThat(nobody.json().get("error").get("message").asText()).contains("could not add n2");
        assertError(http.post("/api/v1/members/shuffle", "{}"), 404, "NOT_FOUND");
        assertThat(http.get("/api/v1/status").json().get("members")).hasSize(1);
    }

    private static void assertError(TestHttp.Answer a, int status, String code) {
        assertThat(a.status()).as(a.body()).isEqualTo(status);
        assertThat(a.json().get("error").get("code").asText()).isEqualTo(code);
        assertThat(a.json().get("error").get("message").asText()).isNotBlank();
    }

    private static void awaitWaiters(String name, int n) {
        Awaitility.await(n + " waiters on " + name)
                .atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> {
                    JsonNode lock = http.get("/api/v1/locks/" + name).json().get("lock");
                    return lock != null && lock.get("waiters").size() == n;
                });
    }
}
