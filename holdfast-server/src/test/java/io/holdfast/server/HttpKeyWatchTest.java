package io.holdfast.server;

import static io.holdfast.server.HttpKeysTest.assertError;
import static io.holdfast.server.HttpKeysTest.b64;
import static io.holdfast.server.HttpKeysTest.ok;
import static io.holdfast.server.HttpKeysTest.write;
import static io.holdfast.server.HttpProtocolTest.acquire;
import static io.holdfast.server.HttpProtocolTest.open;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.holdfast.server.http.HttpMessages;
import io.holdfast.server.http.HttpWatchRoute;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Keys attached to a session and keys with a time to live over HTTP, and {@code GET
 * /api/v1/watch?keys=PREFIX}: the state on a gap, then each write and deletion with its cause.
 */
class HttpKeyWatchTest {
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
        return ok(http.get("/api/v1/watch?" + query));
    }

    /** The events of the watch from {@code after} once there are at least {@code count}. */
    private static JsonNode events(String prefix, String after, int count) throws Exception {
        List<JsonNode> seen = new ArrayList<>();
        Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> {
            seen.clear();
            watch("keys=" + prefix + "&waitMillis=1000&after=" + after)
                    .get("events")
                    .forEach(seen::add);
            return seen.size() >= count;
        });
        return HttpMessages.JSON.valueToTree(seen);
    }

    private static void assertDeleted(JsonNode e, String key, long version, String cause) {
        assertThat(e.get("type").asText()).as(e.toString()).isEqualTo("registerDeleted");
        assertThat(e.get("name").asText()).isEqualTo(key);
        assertThat(e.get("version").asLong()).as("the version it had").isEqualTo(version);
        if (cause == null) {
            assertThat(e.has("cause"))
                    .as("a client's delete has no cause: " + e)
                    .isFalse();
        } else {
            assertThat(e.get("cause").asText()).isEqualTo(cause);
        }
    }

    @Test
    void aKeysWatchStartsWithTheKeysAndTellsEachWriteAndDelete() throws Exception {
        String s = open(http);
        ok(write(http, "keys/put", s, 1, "\"key\":\"hkw/w/a\",\"value\":\"" + b64("a") + "\""));
        ok(write(http, "keys/put", s, 2, "\"key\":\"hkw/w/b\",\"value\":\"" + b64("b") + "\",\"attach\":true"));
        ok(write(http, "keys/put", s, 3, "\"key\":\"hkw/other\",\"value\":\"\""));
        JsonNode start = watch("keys=hkw/w/&waitMillis=0");
        assertThat(start.get("watch").asText()).isEqualTo("keys");
        assertThat(start.get("gap").asBoolean())
                .as("no position: start from the state")
                .isTrue();
        assertThat(start.get("more").asBoolean()).isFalse();
        assertThat(start.get("keys").findValuesAsText("key")).containsExactly("hkw/w/a", "hkw/w/b");
        assertThat(start.get("keys").get(1).get("owner").asText()).isEqualTo(s);
        assertThat(start.get("keys").get(1).get("value").asText()).isEqualTo(b64("b"));

        acquire(http, s, 4, "\"name\":\"hkw/w/lock\""); // a lock under the prefix: not a key
        ok(write(http, "keys/put", s, 5, "\"key\":\"hkw/w/a\",\"value\":\"" + b64("a2") + "\""));
        ok(write(http, "keys/put", s, 6, "\"key\":\"hkw/elsewhere\",\"value\":\"\""));
        ok(write(http, "keys/delete", s, 7, "\"key\":\"hkw/w/a\""));
        ok(write(http, "keys/add", s, 8, "\"key\":\"hkw/w/n\",\"delta\":3"));
        JsonNode events = events("hkw/w/", start.get("next").asText(), 3);
        assertThat(events).hasSize(3);
        assertThat(events.get(0).get("type").asText()).isEqualTo("registerSet");
        assertThat(events.get(0).get("version").asLong()).isEqualTo(2);
        assertThat(events.get(0).get("value").asText()).isEqualTo(b64("a2"));
        assertThat(events.get(0).get("sessionId").asText()).isEqualTo(s);
        assertDeleted(events.get(1), "hkw/w/a", 2, null);
        assertThat(events.get(2).get("name").asText()).isEqualTo("hkw/w/n");
        assertThat(events.get(2).get("version").asLong()).isEqualTo(1);

        assertThat(watch("prefix=hkw/w/&waitMillis=0").get("locks").findValuesAsText("name"))
                .as("a lock watch of the same prefix goes on telling locks")
                .containsExactly("hkw/w/lock");
        assertError(http.get("/api/v1/watch?keys=a/../b"), 400, "INVALID_ARGUMENT", "");
        assertError(http.get("/api/v1/watch?keys=a&prefix=a"), 400, "INVALID_ARGUMENT", "\"keys\"");
    }

    @Test
    void anAttachedKeyGoesInTheStepThatClosesItsSession() throws Exception {
        String s = open(http);
        ok(write(
                http,
                "keys/put",
                s,
                1,
                "\"key\":\"hkw/closed/i-1\",\"value\":\"" + b64("10.0.0.1") + "\",\"attach\":true"));
        ok(write(http, "keys/put", s, 2, "\"key\":\"hkw/closed/kept\",\"value\":\"\""));
        String next = watch("keys=hkw/closed/&waitMillis=0").get("next").asText();
        assertThat(http.send("DELETE", "/api/v1/sessions/" + s + "?requestId=3", null, null)
                        .status())
                .isEqualTo(200);
        JsonNode events = events("hkw/closed/", next, 1);
        assertThat(events).hasSize(1);
        assertDeleted(events.get(0), "hkw/closed/i-1", 1, "sessionClosed");
        assertError(http.get("/api/v1/keys/hkw/closed/i-1"), 404, "NOT_FOUND", "i-1");
        assertThat(ok(http.get("/api/v1/keys/hkw/closed/kept")).get("owner").isNull())
                .as("a key not attached outlives its writer")
                .isTrue();
    }

    @Test
    void anAttachedKeyGoesInTheStepThatEndsItsSession() throws Exception {
        String s = open(http);
        ok(write(http, "keys/put", s, 1, "\"key\":\"hkw/ended/i-1\",\"value\":\"\",\"attach\":true"));
        ok(write(http, "keys/put", s, 2, "\"key\":\"hkw/ended/i-1\",\"value\":\"\",\"attach\":true"));
        String next = watch("keys=hkw/ended/&waitMillis=0").get("next").asText();
        ok(http.post("/api/v1/sessions/" + s + "/end", "{}"));
        JsonNode events = events("hkw/ended/", next, 1);
        assertDeleted(events.get(0), "hkw/ended/i-1", 2, "sessionExpired");
        assertError(http.get("/api/v1/keys/hkw/ended/i-1"), 404, "NOT_FOUND", "i-1");
    }

    @Test
    void aKeyWithATimeToLiveGoesWhenItPasses() throws Exception {
        String s = open(http);
        String next = watch("keys=hkw/ttl/&waitMillis=0").get("next").asText();
        ok(write(http, "keys/put", s, 1, "\"key\":\"hkw/ttl/k\",\"value\":\"\",\"ttlMillis\":1000"));
        JsonNode events = events("hkw/ttl/", next, 2);
        assertThat(events.get(0).get("type").asText()).isEqualTo("registerSet");
        assertDeleted(events.get(1), "hkw/ttl/k", 1, "leaseTimeout");
    }

    /**
     * A session attaches as many keys as it may (10,000), the next is refused by name; the state of
     * a watch lists 10,000 keys and says there are more; closing the session deletes them all.
     */
    @Test
    void theKeysOfASessionAreBoundedAndAWatchStateSaysWhenItIsNotWhole() throws Exception {
        String s = open(http);
        int done = 0;
        for (int request = 1; done < io.holdfast.Keys.MAX_KEYS_PER_SESSION; request++) {
            StringBuilder ops = new StringBuilder();
            for (int i = 0; i < 128 && done < io.holdfast.Keys.MAX_KEYS_PER_SESSION; i++, done++) {
                ops.append(ops.isEmpty() ? "" : ",")
                        .append("{\"type\":\"put\",\"key\":\"hkw/big/")
                        .append(String.format("%05d", done))
                        .append("\",\"value\":\"\",\"attach\":true}");
            }
            ok(write(http, "txn", s, request, "\"then\":[" + ops + "]"));
        }
        TestHttp.Answer refused =
                write(http, "keys/put", s, 1000, "\"key\":\"hkw/big/more\",\"value\":\"\",\"attach\":true");
        assertError(refused, 429, "QUOTA_EXCEEDED", "keys-per-session");
        ok(write(http, "keys/put", s, 1001, "\"key\":\"hkw/big/zzz\",\"value\":\"\""));

        JsonNode state = watch("keys=hkw/big/&waitMillis=0");
        assertThat(state.get("keys")).hasSize(HttpWatchRoute.MAX_STATE_KEYS);
        assertThat(state.get("more").asBoolean())
                .as("10,001 keys: one more than listed")
                .isTrue();
        assertThat(state.get("keys").get(9_999).get("key").asText()).isEqualTo("hkw/big/09999");
        JsonNode rest = ok(http.get("/api/v1/keys?prefix=hkw/big/&after=hkw/big/09999"));
        assertThat(rest.get("keys").findValuesAsText("key")).containsExactly("hkw/big/zzz");

        assertThat(http.send("DELETE", "/api/v1/sessions/" + s + "?requestId=1002", null, null)
                        .status())
                .isEqualTo(200);
        JsonNode after = ok(http.get("/api/v1/keys?prefix=hkw/big/"));
        assertThat(after.get("keys").findValuesAsText("key")).containsExactly("hkw/big/zzz");
    }
    /**
     * 40 keys of 64 KiB (2.5 MiB): a listing, and the state of a watch asked with {@code
     * pages=true}, each end at {@code Keys.MAX_PAGE_BYTES} of keys and values, say there are more,
     * and the pages after the last key list the rest: every key once, in order.
     */
    @Test
    void aListingAndAWatchStateEndAtTheirBytesAndThePagesAfterThemListTheRest() throws Exception {
        String s = open(http);
        String value = java.util.Base64.getEncoder().encodeToString(new byte[io.holdfast.Keys.MAX_VALUE_BYTES]);
        for (int i = 0; i < 40; i++) {
            ok(write(
                    http, "keys/put", s, i + 1, "\"key\":\"hkw/pages/" + (100 + i) + "\",\"value\":\"" + value + "\""));
        }
        int fit = io.holdfast.Keys.MAX_PAGE_BYTES / ("hkw/pages/100".length() + io.holdfast.Keys.MAX_VALUE_BYTES);
        JsonNode whole = watch("keys=hkw/pages/&waitMillis=0");
        assertThat(whole.get("keys"))
                .as("a client that does not ask for pages (and may ignore more) gets every key")
                .hasSize(40);
        assertThat(whole.get("more").asBoolean()).isFalse();
        JsonNode state = watch("keys=hkw/pages/&waitMillis=0&pages=true");
        assertThat(state.get("keys")).as("as many keys as fit in the bytes").hasSize(fit);
        assertThat(state.get("more").asBoolean()).isTrue();
        List<String> keys = new ArrayList<>(state.get("keys").findValuesAsText("key"));
        JsonNode page;
        do {
            page = ok(http.get("/api/v1/keys?prefix=hkw/pages/&after=" + keys.get(keys.size() - 1)));
            assertThat(page.get("keys").size())
                    .as("a page ends at its bytes too")
                    .isBetween(1, fit);
            keys.addAll(page.get("keys").findValuesAsText("key"));
        } while (page.get("more").asBoolean());
        List<String> all = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            all.add("hkw/pages/" + (100 + i));
        }
        assertThat(keys).isEqualTo(all);
    }
}
