package io.holdfast.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.ConflictException;
import io.holdfast.InvalidArgumentException;
import io.holdfast.KeyEntry;
import io.holdfast.KeyListing;
import io.holdfast.Keys;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.PutOptions;
import io.holdfast.QuotaExceededException;
import io.holdfast.Txn;
import io.holdfast.TxnResult;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.WatchTarget;
import io.holdfast.internal.CrashSimulation;
import io.holdfast.jdbc.internal.JdbcUri;
import io.holdfast.jdbc.internal.TableBackend;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The lock-table mode's keys against a real database, one subclass per database: versions and
 * conflicts, byte order, counters, keys attached to a session (gone when it closes and when it
 * expires), times to live, transactions (all or nothing, serializable beside a concurrent one,
 * fenced), the per-session quota, and the schema of a database older than keys.
 */
abstract class TableKeysContract {
    private static final Duration SHORT_TTL = Duration.ofSeconds(2);

    private final List<LockClient> clients = new ArrayList<>();
    private String ns;

    /** The store's URI (without holdfast options). */
    protected abstract String uri();

    @BeforeEach
    void namespace() {
        ns = "t" + UUID.randomUUID().toString().substring(0, 8) + "/";
    }

    @AfterEach
    void closeClients() {
        clients.forEach(LockClient::close);
    }

    private LockClient open(String... options) {
        return open(ClientOptions.defaults(), options);
    }

    private LockClient open(ClientOptions clientOptions, String... options) {
        String u = uri();
        for (String o : options) {
            u = withOption(u, o);
        }
        LockClient c = LockClient.open(u, clientOptions);
        clients.add(c);
        return c;
    }

    static String withOption(String uri, String option) {
        return uri + (uri.startsWith("jdbc:h2:") ? ";" : uri.contains("?") ? "&" : "?") + option;
    }

    private static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] counter(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    @Test
    void declaresTheCapabilitiesOfKeys() {
        assertThat(open().capabilities())
                .contains(Capability.KEYS, Capability.SESSION_KEYS, Capability.KEY_TTL, Capability.TRANSACTIONS);
    }

    @Test
    void putGetVersionsAndConflictsAgreeWithTheRegister() {
        LockClient client = open();
        Keys keys = client.keys();
        String k = ns + "a";
        assertThat(keys.get(k)).isEmpty();
        assertThat(keys.put(k, text("one")).version()).isEqualTo(1);
        assertThat(keys.put(k, text("two"), PutOptions.ifVersion(1)).version()).isEqualTo(2);
        assertThatThrownBy(() -> keys.put(k, text("x"), PutOptions.ifVersion(1)))
                .isInstanceOfSatisfying(
                        ConflictException.class,
                        e -> assertThat(e.currentVersion()).isEqualTo(2))
                .hasMessage(k + " is at version 2, not 1");
        assertThatThrownBy(() -> keys.put(k, text("x"), PutOptions.ifAbsent())).isInstanceOf(ConflictException.class);
        KeyEntry read = keys.get(k).orElseThrow();
        assertThat(read.text()).isEqualTo("two");
        assertThat(read.version()).isEqualTo(2);
        assertThat(read.owner()).isNull();
        // a register and a key of one name are one record
        assertThat(client.register(k).get().orElseThrow().version()).isEqualTo(2);
        assertThat(client.register(k).compareAndSet(2, text("three")).version()).isEqualTo(3);
        assertThat(keys.get(k).orElseThrow().text()).isEqualTo("three");
    }

    @Test
    void deleteAnswersThePreviousVersionAndRefusesAnotherOne() {
        Keys keys = open().keys();
        String k = ns + "d";
        keys.put(k, text("v"));
        keys.put(k, text("w"));
        assertThatThrownBy(() -> keys.delete(k, 1))
                .isInstanceOfSatisfying(
                        ConflictException.class,
                        e -> assertThat(e.currentVersion()).isEqualTo(2));
        assertThat(keys.get(k)).isPresent();
        assertThat(keys.delete(k, 2)).isEqualTo(2);
        assertThat(keys.get(k)).isEmpty();
        assertThat(keys.delete(k)).isZero();
        assertThat(keys.put(k, text("again"), PutOptions.ifAbsent()).version()).isEqualTo(1);
    }

    @Test
    void listsInByteOrderOfUtf8ByPrefixWithoutWildcards() {
        Keys keys = open().keys();
        // code point order, which UTF-16 (H2's VARCHAR) and most collations do not follow
        List<String> ordered = List.of("a", "b", "z", "\u00e9", "\u4e2d", "\ue000", "\ud83d\ude00");
        for (String s : List.of("\ud83d\ude00", "z", "\u00e9", "a", "\ue000", "b", "\u4e2d")) {
            keys.put(ns + "l/" + s, text(s));
        }
        keys.put(ns + "m", text("outside"));
        keys.put(ns + "l", text("the prefix itself is no key under l/"));
        List<String> seen = new ArrayList<>();
        String after = "";
        int pages = 0;
        while (after != null) {
            KeyListing page = keys.list(ns + "l/", after, 3);
            page.entries().forEach(e -> seen.add(e.key().substring((ns + "l/").length())));
            after = page.next();
            pages++;
        }
        assertThat(seen).containsExactlyElementsOf(ordered);
        assertThat(pages).isEqualTo(3);
        // % and _ are plain characters of a prefix
        keys.put(ns + "p%/x", text("1"));
        keys.put(ns + "p_/y", text("2"));
        keys.put(ns + "pa/z", text("3"));
        keys.put(ns + "pX/w", text("4"));
        assertThat(keys.list(ns + "p%").entries()).extracting(KeyEntry::key).containsExactly(ns + "p%/x");
        assertThat(keys.list(ns + "p_").entries()).extracting(KeyEntry::key).containsExactly(ns + "p_/y");
        assertThat(keys.list(ns + "p").entries()).hasSize(4);
    }

    @Test
    void countersAddInOneStep() {
        Keys keys = open().keys();
        String k = ns + "c";
        assertThat(keys.add(k, 5)).isEqualTo(5);
        assertThat(keys.add(k, -7)).isEqualTo(-2);
        KeyEntry e = keys.get(k).orElseThrow();
        assertThat(e.counter()).isEqualTo(-2);
        assertThat(e.version()).isEqualTo(2);
        keys.put(ns + "text", text("abc"));
        assertThatThrownBy(() -> keys.add(ns + "text", 1))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("not a counter");
        keys.put(ns + "max", counter(Long.MAX_VALUE));
        assertThatThrownBy(() -> keys.add(ns + "max", 1))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("overflow");
        assertThat(keys.get(ns + "max").orElseThrow().counter()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void anAttachedKeyGoesWhenItsSessionCloses() {
        LockClient owner = open();
        Keys other = open().keys();
        String k = ns + "members/i-1";
        KeyEntry put = owner.keys().put(k, text("10.0.0.1"), PutOptions.any().attach());
        assertThat(put.owner()).isEqualTo(owner.sessionId());
        assertThat(other.get(k).orElseThrow().owner()).isEqualTo(owner.sessionId());
        owner.close();
        assertThat(other.get(k)).isEmpty();
        assertThat(other.list(ns + "members/").entries()).isEmpty();
    }

    @Test
    void anAttachedKeyGoesWhenItsSessionExpires() {
        LockClient owner = open(ClientOptions.builder().sessionTtl(SHORT_TTL).build());
        Keys other = open().keys();
        String k = ns + "members/i-2";
        owner.keys().put(k, text("x"), PutOptions.any().attach());
        owner.keys().put(ns + "plain", text("stays"));
        CrashSimulation.crash(owner);
        assertThat(other.get(k)).isPresent();
        await().atMost(Duration.ofSeconds(10)).until(() -> other.get(k).isEmpty());
        assertThat(other.get(ns + "plain")).isPresent();
        // the owner's session stays ended: a new key of the same name belongs to whoever writes it
        assertThat(other.put(k, text("y"), PutOptions.ifAbsent()).version()).isEqualTo(1);
    }

    @Test
    void aKeyWithATimeToLiveGoesWhenItPasses() {
        Keys keys = open().keys();
        String k = ns + "ttl";
        keys.put(k, text("short"), PutOptions.any().ttl(Duration.ofSeconds(1)));
        keys.put(ns + "long", text("stays"), PutOptions.any().ttl(Duration.ofMinutes(5)));
        assertThat(keys.get(k)).isPresent();
        await().atMost(Duration.ofSeconds(5)).until(() -> keys.get(k).isEmpty());
        assertThat(keys.list(ns).entries()).extracting(KeyEntry::key).containsExactly(ns + "long");
        assertThat(keys.put(k, text("new"), PutOptions.ifAbsent()).version()).isEqualTo(1);
    }

    @Test
    void aTransactionIsAllOrNothing() {
        Keys keys = open().keys();
        String a = ns + "a";
        String b = ns + "b";
        keys.put(a, text("1"));
        TxnResult then = keys.commit(Txn.when(Txn.version(a, Txn.Order.EQUAL, 1), Txn.absent(b))
                .then(Txn.put(a, text("2")), Txn.put(b, text("3")), Txn.get(a))
                .otherwise(Txn.get(a)));
        assertThat(then.succeeded()).isTrue();
        assertThat(then.results()).extracting(TxnResult.OpResult::version).containsExactly(2L, 1L, 2L);
        assertThat(new String(then.results().get(2).value(), StandardCharsets.UTF_8))
                .isEqualTo("2");
        TxnResult otherwise = keys.commit(
                Txn.when(Txn.value(a, text("1"))).then(Txn.delete(a)).otherwise(Txn.add(ns + "misses", 1)));
        assertThat(otherwise.succeeded()).isFalse();
        assertThat(otherwise.results().get(0).counter()).isEqualTo(1);
        // the second op is refused: the first does not stay
        assertThatThrownBy(() -> keys.commit(Txn.when().then(Txn.put(a, text("9")), Txn.delete(b, 7))))
                .isInstanceOfSatisfying(
                        ConflictException.class,
                        e -> assertThat(e.currentVersion()).isEqualTo(1))
                .hasMessage("then op 2: " + b + " is at version 1, not 7");
        assertThat(keys.get(a).orElseThrow().text()).isEqualTo("2");
        assertThat(keys.get(a).orElseThrow().version()).isEqualTo(2);
    }

    /**
     * Two clients move units between two keys at once, each by reading both and committing under
     * version compares; a transaction that lost the race runs its else branch and reads again. A
     * lost update or a torn read would change the sum.
     */
    @Test
    void concurrentTransactionsMovingAValueKeepTheSum() throws Exception {
        String a = ns + "acct/a";
        String b = ns + "acct/b";
        open().keys().put(a, counter(100));
        open().keys().put(b, counter(100));
        List<Keys> both = List.of(open().keys(), open().keys());
        int moves = 15;
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                Keys keys = both.get(t);
                String from = t == 0 ? a : b;
                String to = t == 0 ? b : a;
                done.add(pool.submit(() -> {
                    int lost = 0;
                    for (int moved = 0; moved < moves; ) {
                        KeyEntry f = keys.get(from).orElseThrow();
                        KeyEntry g = keys.get(to).orElseThrow();
                        TxnResult r = keys.commit(Txn.when(
                                        Txn.version(from, Txn.Order.EQUAL, f.version()),
                                        Txn.version(to, Txn.Order.EQUAL, g.version()))
                                .then(Txn.put(from, counter(f.counter() - 3)), Txn.put(to, counter(g.counter() + 3))));
                        if (r.succeeded()) {
                            moved++;
                        } else {
                            lost++;
                        }
                    }
                    return lost;
                }));
            }
            for (Future<Integer> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        Keys keys = open().keys();
        long sa = keys.get(a).orElseThrow().counter();
        long sb = keys.get(b).orElseThrow().counter();
        assertThat(sa + sb).isEqualTo(200);
        assertThat(sa).isEqualTo(100); // as many moves each way
        assertThat(keys.get(a).orElseThrow().version()).isEqualTo(1 + 2 * moves);
    }

    @Test
    void concurrentCounterAddsLoseNothing() throws Exception {
        String k = ns + "hits";
        List<Keys> both = List.of(open().keys(), open().keys());
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (Keys keys : both) {
                done.add(pool.submit(() -> {
                    for (int i = 0; i < 25; i++) {
                        keys.commit(Txn.when().then(Txn.add(k, 1), Txn.add(ns + "other", 2)));
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(both.get(0).get(k).orElseThrow().counter()).isEqualTo(50);
        assertThat(both.get(0).get(ns + "other").orElseThrow().counter()).isEqualTo(100);
    }

    @Test
    void aFenceCompareHoldsOnlyWhileTheGrantIsCurrentAndOurs() throws Exception {
        LockClient client = open();
        LockClient stranger = open();
        Keys keys = client.keys();
        String k = ns + "fenced";
        Lease lease = client.lock(ns + "leader").acquire(Duration.ofSeconds(5));
        Txn write = Txn.when(Txn.fence(lease)).then(Txn.put(k, text("by the leader")));
        assertThat(keys.commit(write).succeeded()).isTrue();
        assertThat(stranger.keys().commit(write).succeeded())
                .as("another session's grant is no fence of this one")
                .isFalse();
        assertThat(keys.commit(Txn.when(Txn.holder(ns + "leader", client.sessionId())))
                        .succeeded())
                .isTrue();
        assertThat(keys.commit(Txn.when(Txn.sessionAlive(client.sessionId()))).succeeded())
                .isTrue();
        lease.release();
        assertThat(keys.commit(write).succeeded()).isFalse();
        assertThat(keys.commit(Txn.when(Txn.holder(ns + "leader", client.sessionId())))
                        .succeeded())
                .isFalse();
        assertThat(keys.get(k).orElseThrow().version()).isEqualTo(1);
    }

    @Test
    void aSessionAttachesAtMostTheLimitOfKeys() throws SQLException {
        Assumptions.assumeTrue(insertOwnedKeys() != null, "this database takes ~10 s to insert and delete 10,000 keys");
        LockClient client = open();
        Keys keys = client.keys();
        keys.put(ns + "q/0", text("0"), PutOptions.any().attach());
        try (Connection c = DriverManager.getConnection(driverUrl());
                PreparedStatement ps = c.prepareStatement(insertOwnedKeys())) {
            ps.setString(1, ns + "q/");
            ps.setString(2, client.sessionId());
            assertThat(ps.executeUpdate()).isEqualTo(Keys.MAX_KEYS_PER_SESSION - 1);
        }
        assertThatThrownBy(() ->
                        keys.put(ns + "q/last", text("x"), PutOptions.any().attach()))
                .isInstanceOf(QuotaExceededException.class)
                .hasMessageContaining("the limit keys-per-session is 10000");
        assertThat(keys.get(ns + "q/last")).isEmpty();
        keys.put(
                ns + "q/1",
                text("rewritten, still one of the 10000"),
                PutOptions.any().attach());
        keys.delete(ns + "q/2");
        keys.put(ns + "q/last", text("fits now"), PutOptions.any().attach());

        // At the limit again: the limit is checked op by op, as on the server (KeyPlay), so a delete
        // makes room for the put after it in one transaction, and not for the put before it.
        assertThatThrownBy(() -> keys.commit(Txn.when()
                        .then(
                                Txn.put(
                                        ns + "q/later",
                                        text("x"),
                                        PutOptions.any().attach()),
                                Txn.delete(ns + "q/3"))))
                .isInstanceOf(QuotaExceededException.class)
                .hasMessage("then op 1: session " + client.sessionId()
                        + " owns 10000 keys; the limit keys-per-session is 10000");
        keys.commit(Txn.when()
                .then(
                        Txn.delete(ns + "q/3"),
                        Txn.put(ns + "q/later", text("x"), PutOptions.any().attach())));
        assertThat(keys.get(ns + "q/3")).isEmpty();
        assertThat(keys.get(ns + "q/later").orElseThrow().owner()).isEqualTo(client.sessionId());
    }

    @Test
    void tablesOlderThanKeysGainThemAndKeepTheirRegisters() throws SQLException {
        String prefix = "old" + UUID.randomUUID().toString().substring(0, 6) + "_";
        try (Connection c = DriverManager.getConnection(driverUrl());
                Statement s = c.createStatement()) {
            for (String ddl : tablesBeforeKeys(prefix)) {
                s.execute(ddl);
            }
        }
        try (Connection c = DriverManager.getConnection(driverUrl());
                PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO " + prefix + "registers (name, version, data) VALUES (?, 4, ?)")) {
            ps.setString(1, "cfg");
            ps.setBytes(2, text("hi"));
            ps.executeUpdate();
        }
        LockClient without = open("holdfast.tablePrefix=" + prefix, "holdfast.createSchema=false");
        assertThat(without.capabilities()).doesNotContain(Capability.KEYS, Capability.REGISTERS);
        assertThatThrownBy(without::keys)
                .isInstanceOf(UnsupportedFeatureException.class)
                .hasMessageContaining("keys");
        Keys keys = open("holdfast.tablePrefix=" + prefix).keys();
        assertThat(keys.get("cfg").map(KeyEntry::text)).isEqualTo(Optional.of("hi"));
        assertThat(keys.get("cfg").orElseThrow().version()).isEqualTo(4);
        assertThat(keys.put("cfg", text("ho"), PutOptions.ifVersion(4)).version())
                .isEqualTo(5);
    }

    /**
     * A watch of keys sleeps in {@code awaitWatched} between its reads: a write under its prefix by
     * another client ends the sleep at once (on PostgreSQL by NOTIFY: the writer's URL differs, so
     * this JVM's own wake-ups do not reach the watcher), a write elsewhere does not.
     */
    @Test
    void aWriteUnderThePrefixWakesTheWatchOfKeys() throws Exception {
        TableBackend watcher = new TableBackend(JdbcUri.parse(uri()), ClientOptions.defaults());
        try {
            LockClient other = LockClient.open(otherUri(), ClientOptions.defaults());
            clients.add(other);
            Keys writer = other.keys();
            WatchTarget target = WatchTarget.keys(ns + "w/");
            // the first sleep returns at once (on PostgreSQL once listening) and subscribes
            watcher.awaitWatched(target, Duration.ofSeconds(5).toNanos());
            long start = System.nanoTime();
            watcher.awaitWatched(target, Duration.ofMillis(600).toNanos());
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThan(Duration.ofMillis(500));
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try {
                Future<?> writes = pool.submit(() -> {
                    Thread.sleep(300);
                    writer.put(ns + "elsewhere", text("x"));
                    Thread.sleep(300);
                    writer.put(ns + "w/1", text("x"));
                    return null;
                });
                start = System.nanoTime();
                watcher.awaitWatched(target, Duration.ofSeconds(20).toNanos());
                Duration slept = Duration.ofNanos(System.nanoTime() - start);
                writes.get();
                assertThat(slept).isBetween(Duration.ofMillis(550), Duration.ofSeconds(10));
            } finally {
                pool.shutdownNow();
            }
        } finally {
            watcher.close();
        }
    }

    /** The URI another process's client would use: this JVM's wake-ups of {@link #uri()} do not reach it. */
    protected String otherUri() {
        return uri();
    }

    /** A plain JDBC URL of the store, for statements of the test's own. */
    protected String driverUrl() {
        return uri();
    }

    /**
     * Inserts keys 1 to 9999 under the prefix of parameter 1 into {@code holdfast_registers}, each
     * of version 1, attached to the session of parameter 2, in one statement; null to skip the
     * test of the quota (its count is the same Java on every database).
     */
    protected abstract String insertOwnedKeys();

    /** The directory of the store's SQL files ({@code postgresql}, {@code mariadb}, {@code h2}). */
    protected abstract String dialect();

    /**
     * The tables as versions before keys created them: this version's schema.sql up to its
     * registers table, the statements that follow add keys.
     */
    private List<String> tablesBeforeKeys(String prefix) {
        String path = "/io/holdfast/jdbc/" + dialect() + "/schema.sql";
        String schema;
        try (java.io.InputStream in = TableKeysContract.class.getResourceAsStream(path)) {
            schema = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        StringBuilder code = new StringBuilder();
        for (String line : schema.split("\n")) {
            int comment = line.indexOf("--");
            code.append(comment < 0 ? line : line.substring(0, comment)).append('\n');
        }
        List<String> out = new ArrayList<>();
        for (String statement : code.toString().split(";")) {
            if (!statement.isBlank()) {
                out.add(statement.strip().replace("${p}", prefix));
            }
            if (statement.contains("registers (")) {
                break;
            }
        }
        return out;
    }
}
