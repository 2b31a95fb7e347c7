package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.holdfast.KeyEntry;
import io.holdfast.LockClient;
import io.holdfast.PutOptions;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code holdfast kv}: keys read, written, listed, watched and changed together from the command line. */
class KvCommandTest {
    private static final AtomicInteger STORES = new AtomicInteger();

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    /** An in-process store of its own for each test. */
    private final String backend = "mem:kv-test-" + STORES.incrementAndGet();

    @TempDir
    Path dir;

    private int kv(String... args) {
        List<String> all = new ArrayList<>(List.of("kv"));
        all.addAll(List.of(args));
        all.addAll(List.of("--backend", backend));
        return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), Map.of())
                .execute(all.toArray(String[]::new));
    }

    private List<String> lines() {
        return out.toString().lines().toList();
    }

    private void clear() {
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
    }

    @Test
    void putGetListAndDeleteAsAUserTypesThem() {
        assertThat(kv("put", "config/a", "one")).isEqualTo(ExitCodes.OK);
        assertThat(kv("put", "config/b", "two")).isEqualTo(ExitCodes.OK);
        assertThat(kv("put", "config/a", "uno")).isEqualTo(ExitCodes.OK);
        assertThat(kv("put", "other", "x")).isEqualTo(ExitCodes.OK);
        assertThat(lines())
                .containsExactly("config/a version 1", "config/b version 1", "config/a version 2", "other version 1");
        clear();

        assertThat(kv("get", "config/a")).isEqualTo(ExitCodes.OK);
        assertThat(lines()).containsExactly("uno");
        clear();

        assertThat(kv("ls", "config/")).isEqualTo(ExitCodes.OK);
        assertThat(lines()).containsExactly("config/a version=2 value=\"uno\"", "config/b version=1 value=\"two\"");
        clear();

        assertThat(kv("del", "config/a")).isEqualTo(ExitCodes.OK);
        assertThat(kv("del", "config/a")).isEqualTo(ExitCodes.OK);
        assertThat(lines()).containsExactly("config/a deleted at version 2", "config/a was absent");
        clear();

        assertThat(kv("get", "config/a")).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(out.toString()).isEmpty();
        assertThat(err.toString().strip()).isEqualTo("holdfast kv get: config/a is absent");
    }

    @Test
    void delPrefixDeletesEveryKeyUnderItAndSaysHowMany() {
        try (LockClient client = LockClient.open(backend)) {
            for (int i = 0; i < 1_003; i++) {
                client.keys().put(String.format("big/%04d", i), new byte[] {1});
            }
            client.keys().put("bigger", "x".getBytes(StandardCharsets.UTF_8));
        }
        assertThat(kv("del", "--prefix", "big/")).isEqualTo(ExitCodes.OK);
        assertThat(kv("del", "--prefix", "big/", "--json")).isEqualTo(ExitCodes.OK);
        assertThat(kv("ls", "big")).isEqualTo(ExitCodes.OK);
        assertThat(lines())
                .containsExactly(
                        "deleted 1003 keys under big/",
                        "{\"prefix\":\"big/\",\"deleted\":0}",
                        "bigger version=1 value=\"x\"");
        clear();

        assertThat(kv("del", "--prefix", "")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().strip()).isEqualTo("holdfast kv del: " + io.holdfast.Keys.EMPTY_PREFIX_DELETE);
        clear();
        assertThat(kv("del", "k", "--prefix", "big/")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().strip())
                .isEqualTo("holdfast kv del: give KEY or --prefix, not both (--if-version goes with KEY)");
        clear();
        assertThat(kv("del")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().strip()).isEqualTo("holdfast kv del: give KEY, or --prefix PREFIX");
    }

    @Test
    void aConflictChangesNothingAndExits75() {
        kv("put", "k", "v1");
        clear();
        assertThat(kv("put", "k", "v2", "--if-version", "0")).isEqualTo(ExitCodes.NOT_ACQUIRED);
        assertThat(err.toString()).startsWith("holdfast kv put: ").contains("CONFLICT");
        assertThat(kv("put", "k", "v2", "--if-absent")).isEqualTo(ExitCodes.NOT_ACQUIRED);
        assertThat(kv("del", "k", "--if-version", "7")).isEqualTo(ExitCodes.NOT_ACQUIRED);
        clear();
        kv("get", "k", "--json");
        JsonNode got = json(lines().get(0));
        assertThat(got.get("value").asText()).isEqualTo("v1");
        assertThat(got.get("version").asLong()).isEqualTo(1);
        assertThat(kv("put", "k", "v2", "--if-version", "1")).isEqualTo(ExitCodes.OK);
    }

    @Test
    void aCounterAddsInOneStep() {
        assertThat(kv("add", "hits", "1")).isEqualTo(ExitCodes.OK);
        assertThat(kv("add", "hits", "41")).isEqualTo(ExitCodes.OK);
        assertThat(kv("add", "hits", "-2")).isEqualTo(ExitCodes.OK);
        assertThat(lines()).containsExactly("1", "42", "40");
        clear();
        assertThat(kv("add", "hits", "2", "--json")).isEqualTo(ExitCodes.OK);
        assertThat(kv("del", "hits", "--json")).isEqualTo(ExitCodes.OK);
        assertThat(lines()).containsExactly("{\"key\":\"hits\",\"value\":42}", "{\"key\":\"hits\",\"version\":4}");
        clear();
        kv("put", "text", "not a counter");
        assertThat(kv("add", "text", "1")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().strip())
                .isEqualTo("holdfast kv add: text holds 13 bytes, not a counter (exactly 8 bytes)");
    }

    @Test
    void aCounterReadsAsItsNumberNotAsItsBytes() throws Exception {
        kv("add", "jobs/done", "41");
        kv("add", "jobs/done", "1");
        kv("put", "jobs/name", "nightly!"); // 8 bytes of text: a value, not a counter
        clear();
        assertThat(kv("get", "jobs/done")).isEqualTo(ExitCodes.OK);
        assertThat(kv("ls", "jobs/")).isEqualTo(ExitCodes.OK);
        assertThat(lines())
                .containsExactly("42", "jobs/done version=2 counter=42", "jobs/name version=1 value=\"nightly!\"");
        clear();
        assertThat(kv("get", "jobs/done", "--json")).isEqualTo(ExitCodes.OK);
        JsonNode done = json(out.toString());
        assertThat(done.get("counter").asLong()).isEqualTo(42);
        assertThat(done.get("valueBase64").asBoolean()).isFalse(); // 7 zero bytes and a '*' are UTF-8
        clear();
        assertThat(kv("get", "jobs/name", "--json")).isEqualTo(ExitCodes.OK);
        assertThat(json(out.toString()).get("counter").isNull()).isTrue();
        clear();
        Path txn = dir.resolve("read.json");
        Files.writeString(txn, """
                {"then":[{"type":"get","key":"jobs/done"},{"type":"add","key":"jobs/done","delta":-2}]}
                """);
        assertThat(kv("txn", txn.toString())).isEqualTo(ExitCodes.OK);
        assertThat(lines())
                .containsExactly(
                        "SUCCEEDED (then ran)",
                        "get jobs/done version=2 counter=42",
                        "add jobs/done version=3 counter=40");
    }

    @Test
    void lsPagesUpToItsLimitAndPrintsJson() {
        for (int i = 0; i < 5; i++) {
            kv("put", "svc/" + i, "addr-" + i);
        }
        clear();
        assertThat(kv("ls", "svc/", "--limit", "3", "--json")).isEqualTo(ExitCodes.OK);
        JsonNode listing = json(out.toString());
        assertThat(listing.get("more").asBoolean()).isTrue();
        assertThat(listing.get("position").asText()).matches("\\d+\\.\\d+");
        JsonNode array = listing.get("keys");
        assertThat(array.size()).isEqualTo(3);
        assertThat(array.get(2).get("key").asText()).isEqualTo("svc/2");
        assertThat(array.get(2).get("value").asText()).isEqualTo("addr-2");
        clear();
        assertThat(kv("ls", "none/")).isEqualTo(ExitCodes.OK);
        assertThat(lines()).containsExactly("no keys start with none/");
    }

    @Test
    void watchFromTheListingsPositionPrintsTheWriteMadeSinceAndNoState() {
        kv("put", "cfg/a", "one");
        clear();
        assertThat(kv("ls", "cfg/", "--json")).isEqualTo(ExitCodes.OK);
        String position = json(out.toString()).get("position").asText();
        kv("put", "cfg/b", "two");
        clear();
        assertThat(kv("watch", "cfg/", "--from", position, "--count", "1", "--timeout", "20s"))
                .isEqualTo(ExitCodes.OK);
        assertThat(lines()).hasSize(1);
        assertThat(lines().get(0)).startsWith("REGISTER_SET cfg/b").contains("value=\"two\"");
        clear();
        assertThat(kv("watch", "cfg/", "--from", "not-a-position", "--count", "1"))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("the position 'not-a-position' is not one the service gave");
    }

    @Test
    void lsKeysOnlyAndGetPrefixListAsEtcdctlDoes() {
        kv("put", "svc/a", "addr-a");
        kv("put", "svc/b", "addr-b");
        kv("put", "svd", "other");
        clear();
        assertThat(kv("ls", "svc/", "--keys-only")).isEqualTo(ExitCodes.OK);
        assertThat(kv("get", "--prefix", "svc/")).isEqualTo(ExitCodes.OK);
        assertThat(kv("get", "svc/", "--prefix", "--keys-only")).isEqualTo(ExitCodes.OK);
        assertThat(lines())
                .containsExactly(
                        "svc/a",
                        "svc/b",
                        "svc/a version=1 value=\"addr-a\"",
                        "svc/b version=1 value=\"addr-b\"",
                        "svc/a",
                        "svc/b");
        clear();
        assertThat(kv("ls", "svc/", "--keys-only", "--json")).isEqualTo(ExitCodes.OK);
        JsonNode keysOnly = json(out.toString()).get("keys");
        assertThat(keysOnly.get(0).get("key").asText()).isEqualTo("svc/a");
        assertThat(keysOnly.get(0).get("version").asLong()).isEqualTo(1);
        assertThat(keysOnly.get(0).has("value"))
                .as("no value in a keys-only listing")
                .isFalse();
        clear();
        assertThat(kv("get", "svc/a", "--keys-only")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().strip()).isEqualTo("holdfast kv get: --keys-only goes with --prefix");
    }

    @Test
    void aTransactionRunsOneBranchAndSaysWhich() throws Exception {
        Path txn = dir.resolve("move.json");
        Files.writeString(txn, """
                {"compares":[{"type":"absent","key":"acct/a"}],
                 "then":[{"type":"put","key":"acct/a","text":"100"},{"type":"add","key":"moves","delta":1}],
                 "otherwise":[{"type":"get","key":"acct/a"}]}
                """);
        assertThat(kv("txn", txn.toString())).isEqualTo(ExitCodes.OK);
        assertThat(lines())
                .containsExactly("SUCCEEDED (then ran)", "put acct/a version=1", "add moves version=1 counter=1");
        clear();
        assertThat(kv("txn", txn.toString())).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(lines()).containsExactly("FAILED (otherwise ran)", "get acct/a version=1 value=100");
        clear();

        Files.writeString(
                txn, "{\"compares\":[{\"type\":\"version\",\"key\":\"k\",\"order\":\"sideways\",\"version\":1}]}");
        assertThat(kv("txn", txn.toString())).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().strip())
                .isEqualTo("holdfast kv txn: order must be equal, notEqual, less or greater, not sideways");
    }

    @Test
    void aWatchOfKeysPrintsTheStateThenWritesAndDeletes() throws Exception {
        try (LockClient other = LockClient.open(backend)) {
            other.keys().put("svc/a", "1".getBytes(StandardCharsets.UTF_8));
            CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> kv("watch", "svc/", "--count", "3"));
            await().atMost(Duration.ofSeconds(10)).until(() -> !lines().isEmpty());
            other.keys().put("svc/b", "2".getBytes(StandardCharsets.UTF_8));
            other.keys().delete("svc/a");
            assertThat(exit.get(10, TimeUnit.SECONDS)).isEqualTo(ExitCodes.OK);
            assertThat(lines().get(0)).isEqualTo("STATE svc/a version=1 value=\"1\"");
            assertThat(lines().get(1))
                    .startsWith("REGISTER_SET svc/b session=" + other.sessionId())
                    .contains("version=1");
            assertThat(lines().get(2)).startsWith("REGISTER_DELETED svc/a").contains("version=1");
        }
    }

    @Test
    void anAttachedKeyLivesAsLongAsTheCommand() throws Exception {
        CompletableFuture<Integer> exit =
                CompletableFuture.supplyAsync(() -> kv("put", "members/me", "here", "--attach", "--for", "2s"));
        try (LockClient other = LockClient.open(backend)) {
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> other.keys().get("members/me").isPresent());
            Optional<KeyEntry> held = other.keys().get("members/me");
            assertThat(held.get().owner()).isNotNull();
            assertThat(exit.get(10, TimeUnit.SECONDS)).isEqualTo(ExitCodes.OK);
            assertThat(other.keys().get("members/me"))
                    .as("gone with the command's session")
                    .isEmpty();
        }
    }

    /**
     * Issue 70: a put without --attach detached a key attached to another session (ZooKeeper's
     * setData keeps an ephemeral node ephemeral); --detach says so.
     */
    @Test
    void aPutWithoutALifetimeKeepsTheKeyAttachedAndDetachDetachesIt() {
        try (LockClient member = LockClient.open(backend)) {
            member.keys()
                    .put(
                            "members/m",
                            "one".getBytes(StandardCharsets.UTF_8),
                            PutOptions.any().attach());
            assertThat(kv("put", "members/m", "two")).isEqualTo(ExitCodes.OK);
            assertThat(member.keys().get("members/m").orElseThrow().owner())
                    .as("written by the command's session without a lifetime")
                    .isEqualTo(member.sessionId());
            assertThat(kv("put", "members/m", "three", "--detach")).isEqualTo(ExitCodes.OK);
            assertThat(member.keys().get("members/m").orElseThrow().owner()).isNull();
            assertThat(kv("put", "members/m", "four", "--detach", "--attach")).isEqualTo(ExitCodes.USAGE);
            assertThat(err.toString()).contains("give --attach or --detach, not both");
        }
    }

    /** Issue 70: a get of a counter printed its 8 bytes in base64, an add that reached 0 no counter at all. */
    @Test
    void aTransactionPrintsCountersAsNumbersInJson() throws Exception {
        kv("add", "jobs/done", "5");
        clear();
        Path txn = dir.resolve("count.json");
        Files.writeString(txn, """
                {"then":[{"type":"get","key":"jobs/done"},{"type":"add","key":"jobs/done","delta":-5}]}
                """);
        assertThat(kv("txn", txn.toString(), "--json")).isEqualTo(ExitCodes.OK);
        JsonNode results = json(out.toString()).get("results");
        assertThat(results.get(0).get("counter").asLong()).isEqualTo(5);
        assertThat(results.get(0).get("key").asText()).isEqualTo("jobs/done");
        assertThat(results.get(1).get("counter").isNumber())
                .as(results::toString)
                .isTrue();
        assertThat(results.get(1).get("counter").asLong()).isZero();
    }

    /** Issue 70: the attached keys of a transaction went as the command exited, and nothing said so. */
    @Test
    void aTransactionThatAttachesKeysWarnsThatTheyEndWithTheCommand() throws Exception {
        Path txn = dir.resolve("attach.json");
        Files.writeString(txn, """
                {"then":[{"type":"put","key":"members/a","text":"x","attach":true},{"type":"put","key":"plain","text":"y"}]}
                """);
        assertThat(kv("txn", txn.toString())).isEqualTo(ExitCodes.OK);
        assertThat(lines()).first().isEqualTo("SUCCEEDED (then ran)");
        assertThat(err.toString().lines())
                .singleElement()
                .isEqualTo("holdfast kv txn: warning: members/a is attached to this command's session, which ends as"
                        + " it exits: deleted now (to hold a key, holdfast kv put KEY VALUE --attach)");
        clear();
        assertThat(kv("get", "members/a")).isEqualTo(ExitCodes.CHECK_FAILED);
    }

    /**
     * Issue 70: the help said a refused op exits 75, and an add to a key that holds no counter gave 64. The exit-code
     * table's rule stands (64 for an op refused as invalid, as kv add; 75 for a version conflict) and the help says it.
     */
    @Test
    void aRefusedOpExitsAsTheHelpSays() throws Exception {
        kv("put", "text", "not a counter");
        clear();
        Path txn = dir.resolve("refused.json");
        Files.writeString(txn, "{\"then\":[{\"type\":\"add\",\"key\":\"text\",\"delta\":1}]}");
        assertThat(kv("txn", txn.toString())).isEqualTo(ExitCodes.USAGE);
        Files.writeString(txn, "{\"then\":[{\"type\":\"put\",\"key\":\"text\",\"text\":\"v\",\"expectedVersion\":7}]}");
        assertThat(kv("txn", txn.toString())).isEqualTo(ExitCodes.NOT_ACQUIRED);
        clear();
        assertThat(kv("txn", "--help")).isEqualTo(ExitCodes.OK);
        String help = String.join(" ", out.toString().lines().map(String::strip).toList());
        assertThat(help)
                .contains("75 an op met another version than it expected (nothing changed)")
                .contains("64 a document it cannot read, or an op refused as invalid, e.g. add to a key that holds no"
                        + " counter");
    }

    /** Issue 70: bad JSON showed Jackson's "[Source: REDACTED (`StreamReadFeature...` disabled)...]". */
    @Test
    void aTransactionThatIsNotJsonIsOneLineNamingWhereItBreaks() throws Exception {
        Path txn = dir.resolve("broken.json");
        Files.writeString(txn, "{\"then\":[{\"type\":\"put\"\n");
        assertThat(kv("txn", txn.toString())).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines())
                .singleElement()
                .asString()
                .startsWith(
                        "holdfast kv txn: the transaction from " + txn + " is not valid JSON: Unexpected end-of-input")
                .contains("line 1, column")
                .doesNotContain("Source", "REDACTED", "StreamReadFeature");
        clear();
        assertThat(kv("txn", dir.resolve("missing.json").toString())).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().strip())
                .isEqualTo("holdfast kv txn: cannot read the transaction from " + dir.resolve("missing.json")
                        + ": no such file");
    }

    /** Issue 70 walk: a bad base64 value showed the JDK's "Illegal base64 character 21" (a hexadecimal code). */
    @Test
    void aValueThatIsNotBase64IsNamedInTheUsersTerms() throws Exception {
        Path txn = dir.resolve("b64.json");
        Files.writeString(txn, "{\"then\":[{\"type\":\"put\",\"key\":\"n\",\"value\":\"!!notbase64\"}]}");
        assertThat(kv("txn", txn.toString())).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().strip())
                .isEqualTo("holdfast kv txn: then op 1: value must be base64 ('!' at character 1 is not a base64"
                        + " character; give text as \"text\")");
        clear();
        Files.writeString(txn, "{\"then\":[{\"type\":\"put\",\"key\":\"n\",\"value\":\"QUJD=\"}]}");
        assertThat(kv("txn", txn.toString())).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().strip())
                .isEqualTo("holdfast kv txn: then op 1: value must be base64 (its length or its '=' padding is wrong;"
                        + " give text as \"text\")")
                .doesNotContain("Illegal", "unit", "valid bits");
        assertThat(kv("get", "n")).isEqualTo(ExitCodes.CHECK_FAILED);
    }

    /**
     * A misspelt field was ignored: {@code "compare"} for {@code "compares"} ran {@code then} without
     * its condition, {@code "expectedVerison"} put without the version check.
     */
    @Test
    void aFieldTheTransactionDoesNotTakeIsRefusedAndNothingIsWritten() throws Exception {
        Path txn = dir.resolve("typo.json");
        Files.writeString(
                txn,
                "{\"compare\":[{\"type\":\"absent\",\"key\":\"t\"}],"
                        + "\"then\":[{\"type\":\"put\",\"key\":\"t\",\"text\":\"1\"}]}");
        assertThat(kv("txn", txn.toString())).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().strip())
                .isEqualTo("holdfast kv txn: the transaction has a field \"compare\" it does not take (it takes"
                        + " compares, then, otherwise)");
        clear();
        Files.writeString(txn, "{\"then\":[{\"type\":\"put\",\"key\":\"t\",\"text\":\"1\",\"expectedVerison\":3}]}");
        assertThat(kv("txn", txn.toString())).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().strip())
                .isEqualTo("holdfast kv txn: then op 1 has a field \"expectedVerison\" it does not take (it takes"
                        + " type, key, value, text, expectedVersion, attach, detach, ttlMillis, lease)");
        clear();
        Files.writeString(
                txn,
                "{\"compares\":[{\"type\":\"version\",\"key\":\"t\",\"order\":\"equal\",\"version\":0,"
                        + "\"vesion\":2}],\"then\":[{\"type\":\"put\",\"key\":\"t\",\"text\":\"1\"}]}");
        assertThat(kv("txn", txn.toString())).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().strip())
                .isEqualTo("holdfast kv txn: version compare has a field \"vesion\" it does not take (it takes"
                        + " type, key, order, version)");
        clear();
        assertThat(kv("get", "t")).as("nothing was written").isEqualTo(ExitCodes.CHECK_FAILED);
    }

    @Test
    void aTimeToLiveOutOfRangeIsNamedAsItWasWritten() {
        assertThat(kv("put", "k", "v", "--ttl", "500ms")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().strip())
                .isEqualTo("holdfast kv put: a key's time to live is 1 s to 30 days, not 500ms");
    }

    @Test
    void aBackendWithoutKeysIsAUsageErrorNamingIt() {
        assertThat(Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), Map.of())
                        .execute("kv", "get", "k", "--backend", "fake:kv"))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().strip()).isEqualTo("holdfast kv get: this provider does not support keys");
    }

    private static JsonNode json(String text) {
        try {
            return new ObjectMapper().readTree(text);
        } catch (java.io.IOException e) {
            throw new AssertionError(text, e);
        }
    }
}
