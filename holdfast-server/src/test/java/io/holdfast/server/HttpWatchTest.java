package io.holdfast.server;

import static io.holdfast.server.HttpProtocolTest.acquire;
import static io.holdfast.server.HttpProtocolTest.open;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Base64;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code GET /api/v1/watch}: the state on a gap, then each change with its position, as a long poll. */
class HttpWatchTest {
    private static TestCluster cluster;
    private static TestHttp http;

    @BeforeAll
    static void start() throws Exception {
        cluster = new TestCluster(1, Set.of(), null, null, true);
        cluster.awaitLeader(Duration.ofSeconds(20));
        http = TestHttp.plain(cluster.node(0).httpPort());
    }

    @AfterAll
    static void stop() throws Exception {
        cluster.close();
    }

    private static JsonNode watch(String query) throws Exception {
        TestHttp.Answer a = http.get("/api/v1/watch?" + query);
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        return a.json();
    }

    @Test
    void aWatchStartsWithTheStateAndGoesOnFromItsPositionWithEachChange() throws Exception {
        String holder = open(http);
        long first = acquire(http, holder, 1, "\"name\":\"hw/jobs/a\"")
                .json()
                .get("token")
                .asLong();

        JsonNode start = watch("prefix=hw/jobs/&waitMillis=0");
        assertThat(start.get("gap").asBoolean())
                .as("no position: start from the state")
                .isTrue();
        assertThat(start.get("locks")).hasSize(1);
        assertThat(start.get("locks").get(0).get("holders").get(0).get("token").asLong())
                .isEqualTo(first);
        String next = start.get("next").asText();

        // A long poll that waits for the release.
        CompletableFuture<JsonNode> polled = CompletableFuture.supplyAsync(() -> {
            try {
                return watch("prefix=hw/jobs/&waitMillis=10000&after=" + next);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(200);
        assertThat(polled).as("nothing changed yet: the poll waits").isNotDone();
        acquire(http, holder, 2, "\"name\":\"hw/other\""); // outside the prefix: not told
        http.post(
                "/api/v1/release",
                "{\"session\":\"" + holder + "\",\"requestId\":3,\"name\":\"hw/jobs/a\",\"token\":" + first + "}");
        JsonNode changes = polled.get(5, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(changes.get("gap").asBoolean()).isFalse();
        assertThat(changes.get("events")).hasSize(1);
        JsonNode released = changes.get("events").get(0);
        assertThat(released.get("type").asText()).isEqualTo("released");
        assertThat(released.get("name").asText()).isEqualTo("hw/jobs/a");
        assertThat(released.get("token").asLong()).isEqualTo(first);
        assertThat(released.get("cause").asText()).isEqualTo("released");
        assertThat(released.get("sessionId").asText()).isEqualTo(holder);

        String other = open(http);
        acquire(http, other, 1, "\"name\":\"hw/jobs/b\",\"waitMillis\":0");
        JsonNode more = watch(
                "prefix=hw/jobs/&waitMillis=5000&after=" + changes.get("next").asText());
        assertThat(more.get("events").get(0).get("type").asText()).isEqualTo("acquired");
        assertThat(more.get("events").get(0).get("name").asText()).isEqualTo("hw/jobs/b");

        JsonNode replay = watch("prefix=hw/jobs/&waitMillis=0&after=" + next);
        assertThat(replay.get("events"))
                .as("asking again from the same position tells the same changes, in order")
                .hasSize(2);
        assertThat(replay.get("events").get(0)).isEqualTo(released);
    }

    @Test
    void aRegisterWatchTellsEachWriteWithItsVersionAndValue() throws Exception {
        String s = open(http);
        JsonNode start = watch("register=hw/config&waitMillis=0");
        assertThat(start.get("gap").asBoolean()).isTrue();
        assertThat(start.get("register").get("version").asLong()).isZero();
        String value = Base64.getEncoder().encodeToString("v1".getBytes());
        TestHttp.Answer written = http.post(
                "/api/v1/registers/set",
                "{\"session\":\"" + s + "\",\"requestId\":1,\"key\":\"hw/config\",\"expectedVersion\":0,\"value\":\""
                        + value + "\"}");
        assertThat(written.status()).as(written.body()).isEqualTo(200);
        JsonNode changes = watch(
                "register=hw/config&waitMillis=5000&after=" + start.get("next").asText());
        JsonNode set = changes.get("events").get(0);
        assertThat(set.get("type").asText()).isEqualTo("registerSet");
        assertThat(set.get("version").asLong()).isEqualTo(1);
        assertThat(set.get("value").asText()).isEqualTo(value);
    }

    @Test
    void theElectionsRouteNamesEachLeaderWithItsEpochAndValue() throws Exception {
        try (io.holdfast.LockClient client = cluster.open(io.holdfast.ClientOptions.defaults())) {
            io.holdfast.Leadership leading = client.election("hw/elections/a")
                    .campaign("host-a:1", io.holdfast.AcquireOptions.waitUpTo(Duration.ofSeconds(5)));
            client.lock("hw/elections/plain").acquire(Duration.ofSeconds(5)); // a lock, no election
            JsonNode list = http.get("/api/v1/elections?prefix=hw/elections/").json();
            assertThat(list.get("elections")).hasSize(1);
            JsonNode e = list.get("elections").get(0);
            assertThat(e.get("name").asText()).isEqualTo("hw/elections/a");
            assertThat(e.get("epoch").asLong()).isEqualTo(leading.epoch());
            assertThat(e.get("value").asText()).isEqualTo("host-a:1");
            assertThat(e.get("sessionId").asText()).isEqualTo(client.sessionId());
            JsonNode one = http.get("/api/v1/elections/hw%2Felections%2Fa").json();
            assertThat(one.get("election").get("epoch").asLong()).isEqualTo(leading.epoch());
            leading.resign();
            assertThat(http.get("/api/v1/elections/hw%2Felections%2Fa").status())
                    .as("nobody leads once it resigned")
                    .isEqualTo(404);
        }
    }

    @Test
    void aLeaderThatHasNotProclaimedIsNamedWithANullValue() throws Exception {
        try (io.holdfast.LockClient client = cluster.open(io.holdfast.ClientOptions.defaults())) {
            // elected, its value not written yet: the lock held, the register without its epoch
            io.holdfast.Lease elected = client.lock("hw/elections/quiet").acquire(Duration.ofSeconds(5));
            TestHttp.Answer one = http.get("/api/v1/elections/hw%2Felections%2Fquiet");
            assertThat(one.status()).as(one.body()).isEqualTo(200);
            JsonNode e = one.json().get("election");
            assertThat(e.get("epoch").asLong()).isEqualTo(elected.fencingToken());
            assertThat(e.get("value").isNull()).as(e.toString()).isTrue();
            assertThat(e.get("sessionId").asText()).isEqualTo(client.sessionId());
            assertThat(http.get("/api/v1/elections?prefix=hw/elections/quiet")
                            .json()
                            .get("elections"))
                    .as("the list names proclaimed elections only")
                    .isEmpty();
        }
    }

    @Test
    void badWatchesAreRefusedWithTheirReason() throws Exception {
        for (String query :
                new String[] {"", "lock=a&register=b", "lock=", "lock=a&after=x", "lock=a&waitMillis=99999"}) {
            TestHttp.Answer a = http.get("/api/v1/watch?" + query);
            assertThat(a.status()).as(query + ": " + a.body()).isEqualTo(400);
            assertThat(a.json().get("error").get("code").asText()).isEqualTo("INVALID_ARGUMENT");
        }
        assertThat(http.post("/api/v1/watch", "{}").status()).isEqualTo(405);
    }
}
