package io.holdfast.server;

import static io.holdfast.server.HttpProtocolTest.acquire;
import static io.holdfast.server.HttpProtocolTest.open;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.holdfast.Keys;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Keys over HTTP on one node ({@code docs/protocol.md}, "Keys"): read, list, put, delete, add,
 * transactions, their refusals, and retries under the same request id. Each test uses its own
 * sessions and keys.
 */
class HttpKeysTest {
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

    static String b64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    /** {@code POST /api/v1/{route}} with the session's numbering and {@code rest}. */
    static TestHttp.Answer write(TestHttp http, String route, String session, long requestId, String rest)
            throws Exception {
        return http.post(
                "/api/v1/" + route, "{\"session\":\"" + session + "\",\"requestId\":" + requestId + "," + rest + "}");
    }

    static JsonNode ok(TestHttp.Answer a) {
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        return a.json();
    }

    static void assertError(TestHttp.Answer a, int status, String code, String message) {
        assertThat(a.status()).as(a.body()).isEqualTo(status);
        assertThat(a.json().get("error").get("code").asText()).isEqualTo(code);
        assertThat(a.json().get("error").get("message").asText()).contains(message);
    }

    @Test
    void aKeyIsPutReadConditionallyChangedAndDeleted() throws Exception {
        String s = open(http);
        JsonNode put = ok(write(http, "keys/put", s, 1, "\"key\":\"hk/crud/a\",\"value\":\"" + b64("v1") + "\""));
        assertThat(put.get("key").asText()).isEqualTo("hk/crud/a");
        assertThat(put.get("version").asLong()).isEqualTo(1);
        JsonNode read = ok(http.get("/api/v1/keys/hk/crud/a"));
        assertThat(read.get("version").asLong()).isEqualTo(1);
        assertThat(read.get("value").asText()).isEqualTo(b64("v1"));
        assertThat(read.get("owner").isNull()).as("not attached").isTrue();
        assertThat(ok(http.get("/api/v1/registers/hk/crud/a")).get("version").asLong())
                .as("a key is a register too")
                .isEqualTo(1);

        assertThat(ok(write(
                                http,
                                "keys/put",
                                s,
                                2,
                                "\"key\":\"hk/crud/a\",\"value\":\"" + b64("v2") + "\",\"expectedVersion\":1"))
                        .get("version")
                        .asLong())
                .isEqualTo(2);
        TestHttp.Answer stale = write(
                http, "keys/put", s, 3, "\"key\":\"hk/crud/a\",\"value\":\"" + b64("v3") + "\",\"expectedVersion\":1");
        assertError(stale, 409, "CONFLICT", "version 2");
        assertThat(stale.json().get("error").get("currentVersion").asLong()).isEqualTo(2);
        assertThat(stale.json().get("error").get("message").asText())
                .as("a put's refusal, not its transaction's")
                .doesNotContain("then op");
        assertError(
                write(
                        http,
                        "keys/put",
                        s,
                        4,
                        "\"key\":\"hk/crud/a\",\"value\":\"" + b64("x") + "\",\"expectedVersion\":0"),
                409,
                "CONFLICT",
                "version 2");

        TestHttp.Answer wrongDelete = write(http, "keys/delete", s, 5, "\"key\":\"hk/crud/a\",\"expectedVersion\":1");
        assertError(wrongDelete, 409, "CONFLICT", "version 2");
        assertThat(wrongDelete.json().get("error").get("currentVersion").asLong())
                .isEqualTo(2);
        JsonNode deleted = ok(write(http, "keys/delete", s, 6, "\"key\":\"hk/crud/a\",\"expectedVersion\":2"));
        assertThat(deleted.get("version").asLong()).as("the version it had").isEqualTo(2);
        assertError(http.get("/api/v1/keys/hk/crud/a"), 404, "NOT_FOUND", "hk/crud/a");
        assertThat(ok(write(http, "keys/delete", s, 7, "\"key\":\"hk/crud/a\""))
                        .get("version")
                        .asLong())
                .as("deleting an absent key: it had version 0")
                .isZero();
        assertThat(ok(write(http, "keys/put", s, 8, "\"key\":\"hk/crud/a\",\"value\":\"\",\"expectedVersion\":0"))
                        .get("version")
                        .asLong())
                .as("written again after a delete: version 1")
                .isEqualTo(1);
        ok(write(http, "keys/put", s, 9, "\"key\":\"hk/crud/a/b\",\"value\":\"\""));
        assertError(http.get("/api/v1/keys/hk/crud"), 404, "NOT_FOUND", "hk/crud");
    }

    /**
     * A body without attach, detach or ttlMillis keeps the key's lifetime: what the Python, Node
     * and Go clients of before protocol version 8 send for a plain put; detach says otherwise.
     */
    @Test
    void aPutWithoutALifetimeKeepsTheKeyAttachedAndDetachDetachesIt() throws Exception {
        String owner = open(http);
        String other = open(http);
        ok(write(http, "keys/put", owner, 1, "\"key\":\"hk/life/a\",\"value\":\"\",\"attach\":true"));
        ok(write(http, "keys/put", other, 1, "\"key\":\"hk/life/a\",\"value\":\"" + b64("v2") + "\""));
        assertThat(ok(http.get("/api/v1/keys/hk/life/a")).get("owner").asText())
                .as("written by another session without a lifetime")
                .isEqualTo(owner);
        ok(write(http, "keys/put", other, 2, "\"key\":\"hk/life/a\",\"value\":\"\",\"detach\":true"));
        assertThat(ok(http.get("/api/v1/keys/hk/life/a")).get("owner").isNull())
                .as("detached")
                .isTrue();
    }

    /**
     * ADR 0006: a put naming another session as its lease attaches the key to it; the writer's close
     * leaves it, the lease's close takes it. A lease that is not open is a conflict, nothing written.
     */
    @Test
    void aPutOnALeaseIsTheLeasesAndGoesWithIt() throws Exception {
        String lease = open(http);
        String writer = open(http);
        ok(write(http, "keys/put", writer, 1, "\"key\":\"hk/lease/a\",\"value\":\"\",\"lease\":\"" + lease + "\""));
        ok(write(
                http,
                "txn",
                writer,
                2,
                "\"then\":[{\"type\":\"put\",\"key\":\"hk/lease/b\",\"value\":\"\",\"lease\":\"" + lease + "\"}]"));
        assertError(
                write(
                        http,
                        "keys/put",
                        writer,
                        3,
                        "\"key\":\"hk/lease/c\",\"value\":\"\",\"lease\":\"NotAnOpenSession00000x\""),
                409,
                "CONFLICT",
                "lease NotAnOpenSession00000x is not an open session");
        assertThat(http.get("/api/v1/keys/hk/lease/c").status()).isEqualTo(404);
        for (String k : new String[] {"a", "b"}) {
            assertThat(ok(http.get("/api/v1/keys/hk/lease/" + k)).get("owner").asText())
                    .as(k)
                    .isEqualTo(lease);
        }
        ok(http.send("DELETE", "/api/v1/sessions/" + writer, null, null));
        assertThat(http.get("/api/v1/keys/hk/lease/a").status())
                .as("the writer's end leaves it")
                .isEqualTo(200);
        ok(http.send("DELETE", "/api/v1/sessions/" + lease, null, null));
        assertThat(http.get("/api/v1/keys/hk/lease/a").status())
                .as("gone with the lease")
                .isEqualTo(404);
        assertThat(http.get("/api/v1/keys/hk/lease/b").status()).isEqualTo(404);
    }

    /**
     * Issue 70, item 7: the record an election's leader writes over HTTP (the Python, Node and Go
     * clients' campaign: the register of the lock's name, "<token>:<value>", fenced by the grant)
     * is no key: the keys' routes leave it out, the register's route reads it, and it is gone once
     * the lock is released with nobody waiting.
     */
    @Test
    void anElectionsRecordIsNoKeyAndGoesWhenItsElectionHasNobody() throws Exception {
        String s = open(http);
        ok(write(http, "keys/put", s, 1, "\"key\":\"hk/el/config\",\"value\":\"\""));
        long token = ok(acquire(http, s, 2, "\"name\":\"hk/el/indexer\""))
                .get("token")
                .asLong();
        ok(write(
                http,
                "registers/set",
                s,
                3,
                "\"key\":\"hk/el/indexer\",\"expectedVersion\":0,\"value\":\"" + b64(token + ":10.0.0.7")
                        + "\",\"fenceName\":\"hk/el/indexer\",\"fenceToken\":" + token));
        assertThat(ok(http.get("/api/v1/registers/hk/el/indexer")).get("value").asText())
                .isEqualTo(b64(token + ":10.0.0.7"));
        assertThat(ok(http.get("/api/v1/keys?prefix=hk/el/")).get("keys"))
                .extracting(k -> k.get("key").asText())
                .containsExactly("hk/el/config");
        assertError(http.get("/api/v1/keys/hk/el/indexer"), 404, "NOT_FOUND", "hk/el/indexer");
        ok(write(http, "release", s, 4, "\"name\":\"hk/el/indexer\",\"token\":" + token));
        assertError(http.get("/api/v1/registers/hk/el/indexer"), 404, "NOT_FOUND", "hk/el/indexer");
    }

    @Test
    void keysAreListedByPrefixInByteOrderAPageAtATime() throws Exception {
        String s = open(http);
        String[] keys = {"hk/list/b", "hk/list/a", "hk/list/\u00e9", "hk/list/a/deeper", "hk/listing"};
        for (int i = 0; i < keys.length; i++) {
            ok(write(http, "keys/put", s, i + 1, "\"key\":\"" + keys[i] + "\",\"value\":\"" + b64("" + i) + "\""));
        }
        JsonNode first = ok(http.get("/api/v1/keys?prefix=hk/list/&limit=2"));
        assertThat(first.get("keys").findValuesAsText("key")).containsExactly("hk/list/a", "hk/list/a/deeper");
        assertThat(first.get("more").asBoolean()).isTrue();
        assertThat(first.get("position").asText()).matches("\\d+\\.\\d+");
        assertThat(first.get("keys").get(0).get("value").asText()).isEqualTo(b64("1"));
        JsonNode rest = ok(http.get("/api/v1/keys?prefix=hk/list/&limit=2&after=hk/list/a/deeper"));
        assertThat(rest.get("keys").findValuesAsText("key")).containsExactly("hk/list/b", "hk/list/\u00e9");
        assertThat(rest.get("more").asBoolean()).isFalse();
        assertThat(ok(http.get("/api/v1/keys?prefix=hk/list")).get("keys").findValuesAsText("key"))
                .as("the default limit takes them all")
                .hasSize(5);
        assertError(http.get("/api/v1/keys?limit=0"), 400, "INVALID_ARGUMENT", "limit");
        assertThat(http.get("/api/v1/keys?limit=" + Keys.MAX_PAGE).status()).isEqualTo(200);
        assertError(
                http.get("/api/v1/keys?limit=" + (Keys.MAX_PAGE + 1)),
                400,
                "INVALID_ARGUMENT",
                "limit must be 1 to " + Keys.MAX_PAGE);
        assertError(http.get("/api/v1/keys?prefix=a/../b"), 400, "INVALID_ARGUMENT", "");
    }

    @Test
    void aKeysOnlyListingSendsNoValues() throws Exception {
        String s = open(http);
        ok(write(http, "keys/put", s, 1, "\"key\":\"hk/only/a\",\"value\":\"" + b64("big value") + "\""));
        ok(write(http, "keys/put", s, 2, "\"key\":\"hk/only/b\",\"value\":\"" + b64("other") + "\",\"attach\":true"));

        JsonNode page = ok(http.get("/api/v1/keys?prefix=hk/only/&keysOnly=true"));
        assertThat(page.get("keys").findValuesAsText("key")).containsExactly("hk/only/a", "hk/only/b");
        assertThat(page.get("keys").findValuesAsText("value")).containsExactly("", "");
        assertThat(page.get("keys").get(1).get("owner").asText()).isEqualTo(s);
        assertThat(page.get("keys").get(0).get("version").asLong()).isEqualTo(1);
        assertThat(page.get("position").asText()).matches("\\d+\\.\\d+");
        assertThat(ok(http.get("/api/v1/keys?prefix=hk/only/&keysOnly=false"))
                        .get("keys")
                        .findValuesAsText("value"))
                .containsExactly(b64("big value"), b64("other"));
        assertError(http.get("/api/v1/keys?prefix=hk/only/&keysOnly=yes"), 400, "INVALID_ARGUMENT", "keysOnly");
    }

    @Test
    void aPrefixIsDeletedAPageAtATimeAndAnEmptyPrefixIsRefused() throws Exception {
        String s = open(http);
        String other = open(http);
        String[] keys = {"hk/del/a", "hk/del/b", "hk/del/c", "hk/delx"};
        for (int i = 0; i < keys.length; i++) {
            ok(write(http, "keys/put", s, i + 1, "\"key\":\"" + keys[i] + "\",\"value\":\"" + b64("" + i) + "\""));
        }
        ok(write(http, "keys/put", other, 1, "\"key\":\"hk/del/owned\",\"value\":\"AQ==\",\"attach\":true"));

        JsonNode first = ok(write(http, "keys/delete-prefix", s, 10, "\"prefix\":\"hk/del/\",\"limit\":3"));
        assertThat(first.get("prefix").asText()).isEqualTo("hk/del/");
        assertThat(first.get("deleted").asLong()).isEqualTo(3);
        assertThat(first.get("more").asBoolean()).isTrue();
        assertThat(ok(write(http, "keys/delete-prefix", s, 10, "\"prefix\":\"hk/del/\",\"limit\":3"))
                        .get("deleted")
                        .asLong())
                .as("a retry under the same request id is answered, not applied again")
                .isEqualTo(3);
        JsonNode last = ok(write(http, "keys/delete-prefix", s, 11, "\"prefix\":\"hk/del/\""));
        assertThat(last.get("deleted").asLong())
                .as("another session's attached key goes as a single delete of it would")
                .isEqualTo(1);
        assertThat(last.get("more").asBoolean()).isFalse();
        assertThat(ok(http.get("/api/v1/keys?prefix=hk/del")).get("keys").findValuesAsText("key"))
                .containsExactly("hk/delx");

        assertError(
                write(http, "keys/delete-prefix", s, 12, "\"prefix\":\"\""),
                400,
                "INVALID_ARGUMENT",
                Keys.EMPTY_PREFIX_DELETE);
        assertError(write(http, "keys/delete-prefix", s, 13, "\"limit\":3"), 400, "INVALID_ARGUMENT", "prefix");
        assertError(
                write(http, "keys/delete-prefix", s, 14, "\"prefix\":\"hk/\",\"limit\":1001"),
                400,
                "INVALID_ARGUMENT",
                "\"limit\" must be 1 to 1000, not 1001");
        assertThat(http.get("/api/v1/keys/hk/delx").status()).isEqualTo(200);
    }

    @Test
    void aCounterIsAddedToInOneStepAndRefusesWhatIsNoCounter() throws Exception {
        String s = open(http);
        JsonNode one = ok(write(http, "keys/add", s, 1, "\"key\":\"hk/count/a\",\"delta\":1"));
        assertThat(one.get("value").asLong()).as("absent counts as 0").isEqualTo(1);
        assertThat(one.get("version").asLong()).isEqualTo(1);
        JsonNode down = ok(write(http, "keys/add", s, 2, "\"key\":\"hk/count/a\",\"delta\":-5"));
        assertThat(down.get("value").asLong()).isEqualTo(-4);
        assertThat(down.get("version").asLong()).isEqualTo(2);
        assertThat(ok(http.get("/api/v1/keys/hk/count/a")).get("value").asText())
                .as("8 bytes, signed big-endian")
                .isEqualTo(Base64.getEncoder()
                        .encodeToString(ByteBuffer.allocate(8).putLong(-4).array()));
        ok(write(http, "keys/put", s, 3, "\"key\":\"hk/count/text\",\"value\":\"" + b64("abc") + "\""));
        assertError(
                write(http, "keys/add", s, 4, "\"key\":\"hk/count/text\",\"delta\":1"),
                400,
                "INVALID_ARGUMENT",
                "3 bytes");
        ok(write(http, "keys/add", s, 5, "\"key\":\"hk/count/big\",\"delta\":" + Long.MAX_VALUE));
        assertError(
                write(http, "keys/add", s, 6, "\"key\":\"hk/count/big\",\"delta\":1"),
                400,
                "INVALID_ARGUMENT",
                "overflow");
        assertThat(ok(http.get("/api/v1/keys/hk/count/big")).get("version").asLong())
                .as("a refused add changes nothing")
                .isEqualTo(1);
    }

    /** The client's answer is lost and it sends the same request again: applied once, answered alike. */
    @Test
    void aRequestRetriedWithTheSameIdIsAppliedOnce() throws Exception {
        String s = open(http);
        JsonNode first = ok(write(http, "keys/add", s, 1, "\"key\":\"hk/retry/n\",\"delta\":10"));
        JsonNode again = ok(write(http, "keys/add", s, 1, "\"key\":\"hk/retry/n\",\"delta\":10"));
        assertThat(again).isEqualTo(first);
        assertThat(ok(write(http, "keys/add", s, 2, "\"key\":\"hk/retry/n\",\"delta\":0"))
                        .get("value")
                        .asLong())
                .as("added once")
                .isEqualTo(10);
        String txn = "\"compares\":[{\"type\":\"version\",\"key\":\"hk/retry/n\",\"version\":2}],"
                + "\"then\":[{\"type\":\"add\",\"key\":\"hk/retry/n\",\"delta\":5}]";
        JsonNode ran = ok(write(http, "txn", s, 3, txn));
        JsonNode ranAgain = ok(write(http, "txn", s, 3, txn));
        assertThat(ran.get("succeeded").asBoolean()).isTrue();
        assertThat(ranAgain)
                .as("the first answer, though the compare no longer holds")
                .isEqualTo(ran);
        assertThat(ok(http.get("/api/v1/keys/hk/retry/n")).get("version").asLong())
                .isEqualTo(3);
        JsonNode put = ok(write(http, "keys/put", s, 4, "\"key\":\"hk/retry/p\",\"value\":\"\""));
        assertThat(ok(write(http, "keys/put", s, 4, "\"key\":\"hk/retry/p\",\"value\":\"\"")))
                .isEqualTo(put);
        assertThat(ok(http.get("/api/v1/keys/hk/retry/p")).get("version").asLong())
                .isEqualTo(1);
    }

    @Test
    void aTransactionRunsThenWhenEveryCompareHoldsElseOtherwise() throws Exception {
        String s = open(http);
        long token =
                ok(acquire(http, s, 1, "\"name\":\"hk/txn/lock\"")).get("token").asLong();
        ok(write(http, "keys/put", s, 2, "\"key\":\"hk/txn/from\",\"value\":\"" + b64("x") + "\""));
        String compares = "\"compares\":["
                + "{\"type\":\"version\",\"key\":\"hk/txn/from\",\"order\":\"equal\",\"version\":1},"
                + "{\"type\":\"value\",\"key\":\"hk/txn/from\",\"value\":\"" + b64("x") + "\"},"
                + "{\"type\":\"absent\",\"key\":\"hk/txn/to\"},"
                + "{\"type\":\"fence\",\"lock\":\"hk/txn/lock\",\"token\":" + token + "},"
                + "{\"type\":\"holder\",\"lock\":\"hk/txn/lock\",\"sessionId\":\"" + s + "\"},"
                + "{\"type\":\"sessionAlive\",\"sessionId\":\"" + s + "\"},"
                + "{\"type\":\"version\",\"key\":\"hk/txn/from\",\"order\":\"greater\",\"version\":0}]";
        String branches = "\"then\":["
                + "{\"type\":\"delete\",\"key\":\"hk/txn/from\",\"expectedVersion\":1},"
                + "{\"type\":\"put\",\"key\":\"hk/txn/to\",\"value\":\"" + b64("x") + "\",\"expectedVersion\":0},"
                + "{\"type\":\"add\",\"key\":\"hk/txn/moves\",\"delta\":1},"
                + "{\"type\":\"get\",\"key\":\"hk/txn/to\"},"
                + "{\"type\":\"get\",\"key\":\"hk/txn/from\"}],"
                + "\"otherwise\":[{\"type\":\"get\",\"key\":\"hk/txn/to\"}]";
        JsonNode moved = ok(write(http, "txn", s, 3, compares + "," + branches));
        assertThat(moved.get("succeeded").asBoolean()).isTrue();
        JsonNode results = moved.get("results");
        assertThat(results).hasSize(5);
        assertThat(results.get(0).get("version").asLong())
                .as("delete: the version it had")
                .isEqualTo(1);
        assertThat(results.get(1).get("version").asLong())
                .as("put: the new version")
                .isEqualTo(1);
        assertThat(results.get(2).get("counter").asLong()).isEqualTo(1);
        assertThat(results.get(3).get("value").asText()).isEqualTo(b64("x"));
        assertThat(results.get(4).get("version").asLong())
                .as("get of an absent key")
                .isZero();
        assertThat(results.get(4).has("value")).isFalse();

        JsonNode again = ok(write(http, "txn", s, 4, compares + "," + branches));
        assertThat(again.get("succeeded").asBoolean())
                .as("the key moved: the compares fail")
                .isFalse();
        assertThat(again.get("results")).hasSize(1);
        assertThat(again.get("results").get(0).get("value").asText()).isEqualTo(b64("x"));
        assertThat(ok(http.get("/api/v1/keys/hk/txn/moves")).get("version").asLong())
                .as("then did not run twice")
                .isEqualTo(1);

        ok(http.post(
                "/api/v1/release",
                "{\"session\":\"" + s + "\",\"requestId\":5,\"name\":\"hk/txn/lock\",\"token\":" + token + "}"));
        JsonNode fenced = ok(write(
                http,
                "txn",
                s,
                6,
                "\"compares\":[{\"type\":\"fence\",\"lock\":\"hk/txn/lock\",\"token\":" + token + "}],"
                        + "\"then\":[{\"type\":\"put\",\"key\":\"hk/txn/to\",\"value\":\"\"}]"));
        assertThat(fenced.get("succeeded").asBoolean())
                .as("a released grant fences nothing")
                .isFalse();
        assertThat(fenced.get("results")).isEmpty();
    }

    @Test
    void aRefusedOpOfTheBranchLeavesEveryKeyAsItWas() throws Exception {
        String s = open(http);
        ok(write(http, "keys/put", s, 1, "\"key\":\"hk/all/a\",\"value\":\"" + b64("a") + "\""));
        TestHttp.Answer refused = write(
                http,
                "txn",
                s,
                2,
                "\"then\":[{\"type\":\"put\",\"key\":\"hk/all/a\",\"value\":\"" + b64("changed") + "\"},"
                        + "{\"type\":\"add\",\"key\":\"hk/all/n\",\"delta\":1},"
                        + "{\"type\":\"delete\",\"key\":\"hk/all/a\",\"expectedVersion\":1}]");
        assertError(refused, 409, "CONFLICT", "then op 3: ");
        assertThat(refused.json().get("error").get("currentVersion").asLong()).isEqualTo(2);
        JsonNode a = ok(http.get("/api/v1/keys/hk/all/a"));
        assertThat(a.get("version").asLong()).isEqualTo(1);
        assertThat(a.get("value").asText()).isEqualTo(b64("a"));
        assertError(http.get("/api/v1/keys/hk/all/n"), 404, "NOT_FOUND", "hk/all/n");
        assertError(
                write(
                        http,
                        "txn",
                        s,
                        3,
                        "\"compares\":[{\"type\":\"absent\",\"key\":\"hk/all/a\"}],"
                                + "\"otherwise\":[{\"type\":\"add\",\"key\":\"hk/all/n\",\"delta\":1},"
                                + "{\"type\":\"add\",\"key\":\"hk/all/a\",\"delta\":1}]"),
                400,
                "INVALID_ARGUMENT",
                "else op 2: ");
        assertError(http.get("/api/v1/keys/hk/all/n"), 404, "NOT_FOUND", "hk/all/n");
    }

    /**
     * A misspelt field would otherwise be skipped: the transaction's compares, a put's expected
     * version, and the write would run unconditionally. Each is refused by name and writes nothing.
     */
    @Test
    void aMisspeltFieldIsRefusedByNameAndNothingIsWritten() throws Exception {
        String s = open(http);
        ok(write(http, "keys/put", s, 1, "\"key\":\"hk/typo/k\",\"value\":\"" + b64("first") + "\""));
        String overwrite = "{\"type\":\"put\",\"key\":\"hk/typo/k\",\"value\":\"" + b64("second") + "\"}";
        String[][] cases = {
            {
                "txn",
                "\"compare\":[{\"type\":\"absent\",\"key\":\"hk/typo/k\"}],\"then\":[" + overwrite + "]",
                "\"compare\" is not a field of POST /api/v1/txn; its fields: session, requestId, ackedBelow, compares,"
                        + " then, otherwise"
            },
            {
                "txn",
                "\"compares\":[{\"type\":\"version\",\"key\":\"hk/typo/k\",\"version\":9,\"ordr\":\"less\"}],"
                        + "\"then\":[" + overwrite + "]",
                "\"compares[0].ordr\" is not a field of a version compare; its fields: type, key, order, version"
            },
            {
                "txn",
                "\"then\":[{\"type\":\"put\",\"key\":\"hk/typo/k\",\"value\":\"\",\"expectedVersoin\":7}]",
                "\"then[0].expectedVersoin\" is not a field of a put op"
            },
            {
                "keys/put",
                "\"key\":\"hk/typo/k\",\"value\":\"\",\"expectedVersoin\":7",
                "\"expectedVersoin\" is not a field of POST /api/v1/keys/put; its fields: session, requestId,"
                        + " ackedBelow, key, value, expectedVersion, attach, detach, ttlMillis, lease"
            },
            {
                "txn",
                "\"then\":[{\"type\":\"add\",\"key\":\"hk/typo/n\",\"delta\":1,\"expectedVersion\":3}]",
                "\"then[0].expectedVersion\" is not a field of an add op; its fields: type, key, delta"
            },
            {"keys/delete", "\"key\":\"hk/typo/k\",\"version\":7", "\"version\" is not a field of POST"},
            {"keys/add", "\"key\":\"hk/typo/n\",\"delta\":1,\"by\":2", "\"by\" is not a field of POST"},
            {"keys/delete-prefix", "\"prefix\":\"hk/typo/\",\"lmit\":1", "\"lmit\" is not a field of POST"},
        };
        long id = 2;
        for (String[] c : cases) {
            assertError(write(http, c[0], s, id++, c[1]), 400, "INVALID_ARGUMENT", c[2]);
        }
        JsonNode k = ok(http.get("/api/v1/keys/hk/typo/k"));
        assertThat(k.get("version").asLong()).as("nothing refused was written").isEqualTo(1);
        assertThat(k.get("value").asText()).isEqualTo(b64("first"));
        assertThat(http.get("/api/v1/keys/hk/typo/n").status()).isEqualTo(404);
        assertThat(ok(write(http, "keys/put", s, id, "\"key\":\"hk/typo/k\",\"value\":\"\",\"delta\":null"))
                        .get("version")
                        .asLong())
                .as("a field sent as null is absent, as every field is")
                .isEqualTo(2);
        JsonNode unasked = ok(write(
                http,
                "txn",
                s,
                id + 1,
                "\"compares\":[{\"type\":\"absent\",\"key\":\"hk/typo/n\",\"order\":\"equal\"}],"
                        + "\"then\":[{\"type\":\"add\",\"key\":\"hk/typo/n\",\"delta\":1,\"expectedVersion\":-1,"
                        + "\"attach\":false,\"detach\":false,\"ttlMillis\":0}]"));
        assertThat(unasked.get("succeeded").asBoolean())
                .as("another kind's field holding the value that asks for nothing, as a client generated from"
                        + " openapi.json sends it, is taken")
                .isTrue();
    }

    @Test
    void everyMalformedFieldIsRefusedByNameAndTheNodeServesOn() throws Exception {
        String s = open(http);
        String[][] cases = {
            {"keys/put", "\"value\":\"\"", "the body needs \"key\""},
            {"keys/put", "\"key\":\"hk/bad\"", "the body needs \"value\""},
            {
                "keys/put",
                "\"key\":\"hk/bad\",\"value\":\"ab*\"",
                "\"value\" must be base64: '*' at character 3 is not a base64 character"
            },
            {
                "keys/put",
                "\"key\":\"hk/bad\",\"value\":\"ab=c\"",
                "\"value\" must be base64: its length or its '=' padding is wrong"
            },
            {"keys/put", "\"key\":\"hk/bad\",\"value\":\"\",\"expectedVersion\":-2", "\"expectedVersion\""},
            {"keys/put", "\"key\":\"hk/bad\",\"value\":\"\",\"expectedVersion\":1.5", "\"expectedVersion\""},
            {"keys/put", "\"key\":\"hk/bad\",\"value\":\"\",\"attach\":\"yes\"", "\"attach\""},
            {"keys/put", "\"key\":\"hk/bad\",\"value\":\"\",\"detach\":1", "\"detach\""},
            {"keys/put", "\"key\":\"hk/bad\",\"value\":\"\",\"attach\":true,\"detach\":true", "\"detach\""},
            {"keys/put", "\"key\":\"hk/bad\",\"value\":\"\",\"ttlMillis\":999", "\"ttlMillis\""},
            {"keys/put", "\"key\":\"hk/bad\",\"value\":\"\",\"lease\":7", "\"lease\" must be a string"},
            {"keys/put", "\"key\":\"hk/bad\",\"value\":\"\",\"lease\":\"short\"", "\"lease\" is not a session id"},
            {
                "keys/put",
                "\"key\":\"hk/bad\",\"value\":\"\",\"lease\":\"LeaseSession0000000001\",\"detach\":true",
                "\"lease\" cannot be given with detach or ttlMillis"
            },
            {
                "keys/put",
                "\"key\":\"hk/bad\",\"value\":\"\",\"lease\":\"LeaseSession0000000001\",\"ttlMillis\":5000",
                "\"lease\" cannot be given with detach or ttlMillis"
            },
            {"keys/put", "\"key\":\"hk/../bad\",\"value\":\"\"", "\"key\""},
            {"keys/put", "\"key\":\"hk/bad\",\"value\":\"" + "A".repeat(87_384) + "\"", "the limit is 65536"},
            {"keys/delete", "\"key\":7", "\"key\" must be a string"},
            {"keys/add", "\"key\":\"hk/bad\"", "the body needs \"delta\""},
            {"keys/add", "\"key\":\"hk/bad\",\"delta\":\"1\"", "\"delta\""},
            {"txn", "\"compares\":{}", "\"compares\" must be an array"},
            {"txn", "\"compares\":[1]", "\"compares[0]\" must be an object"},
            {"txn", "\"compares\":[{\"type\":\"older\",\"key\":\"k\"}]", "\"compares[0].type\" is version, value"},
            {"txn", "\"compares\":[{\"type\":\"version\",\"key\":\"k\",\"order\":\"before\",\"version\":1}]", "order"},
            {"txn", "\"compares\":[{\"type\":\"version\",\"key\":\"k\"}]", "\"compares[0]\" needs \"version\""},
            {"txn", "\"compares\":[{\"type\":\"fence\",\"lock\":\"k\"}]", "\"compares[0]\" needs \"token\""},
            {
                "txn",
                "\"then\":[{\"type\":\"get\",\"key\":\"k\"},{\"type\":\"put\",\"key\":\"k\"}]",
                "\"then[1]\" needs \"value\""
            },
            {"txn", "\"otherwise\":[{\"key\":\"k\"}]", "\"otherwise[0]\" needs \"type\""},
            {"txn", "\"then\":[{\"type\":\"swap\",\"key\":\"k\"}]", "\"then[0].type\" is put, delete, add or get"},
            {
                "txn",
                "\"then\":[" + "{\"type\":\"get\",\"key\":\"k\"},".repeat(128) + "{\"type\":\"get\",\"key\":\"k\"}]",
                "\"then\" has 129 entries; the limit txn-ops is 128"
            },
        };
        for (String[] c : cases) {
            assertError(write(http, c[0], s, 1, c[1]), 400, "INVALID_ARGUMENT", c[2]);
        }
        assertError(http.post("/api/v1/keys/put", "{not json"), 400, "INVALID_ARGUMENT", "not valid JSON");
        assertError(http.post("/api/v1/txn", "[]"), 400, "INVALID_ARGUMENT", "JSON object");
        assertError(http.get("/api/v1/keys/put"), 405, "METHOD_NOT_ALLOWED", "POST");
        assertError(http.get("/api/v1/txn"), 405, "METHOD_NOT_ALLOWED", "POST");
        assertError(
                write(http, "keys/put", "no-such-session-0000000000", 1, "\"key\":\"hk/bad\",\"value\":\"\""),
                410,
                "SESSION_EXPIRED",
                "no-such-session");
        assertThat(ok(write(http, "keys/put", s, 2, "\"key\":\"hk/bad\",\"value\":\"\""))
                        .get("version")
                        .asLong())
                .as("nothing refused was written; the node serves on")
                .isEqualTo(1);
        String largest = Base64.getEncoder().encodeToString(new byte[io.holdfast.Keys.MAX_VALUE_BYTES]);
        assertThat(ok(write(http, "keys/put", s, 3, "\"key\":\"hk/bad\",\"value\":\"" + largest + "\""))
                        .get("version")
                        .asLong())
                .as("the largest value fits in a body, in base64")
                .isEqualTo(2);
    }
}
