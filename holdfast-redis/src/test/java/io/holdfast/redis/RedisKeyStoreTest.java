package io.holdfast.redis;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.holdfast.ClientOptions;
import io.holdfast.ConflictException;
import io.holdfast.Counters;
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
import io.holdfast.WatchTarget;
import io.holdfast.internal.CrashSimulation;
import io.lettuce.core.ScriptOutputType;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Keys on a real Redis ({@link RedisKeyStore}): versions, lists in byte order, counters, keys of a
 * session and with a time to live, transactions and their fences, the watch's wake-ups.
 */
@Timeout(60)
class RedisKeyStoreTest {
    private static EmbeddedRedis redis;
    private final List<LockClient> clients = new ArrayList<>();
    private final String p = "keys-test/" + UUID.randomUUID() + "/";

    @BeforeAll
    static void startRedis() {
        redis = new EmbeddedRedis();
        redis.start();
    }

    @AfterAll
    static void stopRedis() {
        redis.stop();
    }

    @AfterEach
    void closeClients() {
        clients.forEach(LockClient::close);
    }

    /**
     * A session with a 5 s TTL: long enough that its heartbeats (a third of it apart) keep it on a
     * loaded machine. With 1 s, a fence compare found the lease's grant expired while the test held
     * it (CI rehearsal of 2026-11-29, load 16 on two cores).
     */
    private LockClient open() {
        return open(Duration.ofSeconds(5));
    }

    private LockClient open(Duration ttl) {
        LockClient client = LockClient.open(
                redis.uri(),
                ClientOptions.builder()
                        .sessionTtl(ttl)
                        .requestTimeout(Duration.ofSeconds(2))
                        .build());
        clients.add(client);
        return client;
    }

    private static byte[] bytes(String text) {
        return text.getBytes(UTF_8);
    }

    private static byte[] counter(long value) {
        return ByteBuffer.allocate(Long.BYTES).putLong(value).array();
    }

    @Test
    void putsCompareVersionsDeletesAnswerTheVersionAndARegisterIsTheSameRecord() {
        Keys keys = open().keys();
        String k = p + "a";
        assertThat(keys.put(k, bytes("one"), PutOptions.ifAbsent()).version()).isEqualTo(1);
        assertThat(keys.put(k, bytes("two"), PutOptions.ifVersion(1)).version()).isEqualTo(2);
        assertThatThrownBy(() -> keys.put(k, bytes("three"), PutOptions.ifVersion(1)))
                .isInstanceOf(ConflictException.class)
                .hasMessage(k + " is at version 2, not 1");
        assertThatThrownBy(() -> keys.delete(k, 5)).isInstanceOf(ConflictException.class);
        assertThat(keys.get(k)).hasValueSatisfying(e -> assertThat(e.text()).isEqualTo("two"));

        LockClient other = open();
        assertThat(other.register(k).get().orElseThrow().version())
                .as("the register of the same name")
                .isEqualTo(2);
        other.register(k).compareAndSet(2, bytes("four"));
        assertThat(keys.get(k)).contains(new KeyEntry(k, 3, bytes("four"), null));

        assertThat(keys.delete(k, 3)).isEqualTo(3);
        assertThat(keys.get(k)).isEmpty();
        assertThat(other.register(k).get()).isEmpty();
        assertThat(keys.delete(k)).as("an absent key").isZero();
        assertThat(keys.put(k, bytes("again")).version())
                .as("a new key after a delete")
                .isEqualTo(1);
    }

    @Test
    void listsInByteOrderOfUtf8PageByPage() {
        Keys keys = open().keys();
        for (String name : List.of("日本", "z", "é", "a", "Z", "a/b")) {
            keys.put(p + name, bytes(name));
        }
        keys.put(p.substring(0, p.length() - 1), bytes("the prefix without its slash"));
        keys.put(p + "gone", bytes("x"));
        keys.delete(p + "gone");

        List<String> seen = new ArrayList<>();
        String after = "";
        int pages = 0;
        while (after != null) {
            KeyListing page = keys.list(p, after, 2);
            page.entries().forEach(e -> seen.add(e.key().substring(p.length())));
            after = page.next();
            pages++;
        }
        assertThat(seen).containsExactly("Z", "a", "a/b", "z", "é", "日本");
        assertThat(pages).isEqualTo(3);
        assertThat(keys.list(p + "a").entries()).extracting(KeyEntry::text).containsExactly("a", "a/b");
        assertThat(keys.list(p + "a", p, 10).entries())
                .as("after a key before the prefix")
                .extracting(KeyEntry::text)
                .containsExactly("a", "a/b");
        assertThat(keys.list(p + "a", p + "é", 10).entries())
                .as("after the prefix's keys")
                .isEmpty();
    }

    @Test
    void countersAddInOneStepAndRefuseWhatIsNotACounterOrWouldOverflow() {
        Keys keys = open().keys();
        String c = p + "count";
        assertThat(keys.add(c, 5)).isEqualTo(5);
        assertThat(keys.add(c, -7)).isEqualTo(-2);
        assertThat(keys.get(c).orElseThrow().counter()).isEqualTo(-2);
        assertThat(keys.get(c).orElseThrow().version()).isEqualTo(2);
        assertThat(keys.add(c, (1L << 60) + 3))
                .as("past a double's exact integers")
                .isEqualTo((1L << 60) + 1);

        keys.put(c, counter(Long.MAX_VALUE - 1));
        assertThat(keys.add(c, 1)).isEqualTo(Long.MAX_VALUE);
        // the script decides in Lua, the words are the API's: both must agree at either end
        assertThatThrownBy(() -> keys.add(c, 1))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage(Counters.refusal(c, counter(Long.MAX_VALUE), 1));
        keys.put(c, counter(Long.MIN_VALUE + 1));
        assertThat(keys.add(c, -1)).isEqualTo(Long.MIN_VALUE);
        assertThatThrownBy(() -> keys.add(c, -1))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage(Counters.refusal(c, counter(Long.MIN_VALUE), -1));
        assertThat(keys.get(c).orElseThrow().counter()).as("unchanged").isEqualTo(Long.MIN_VALUE);
        assertThatThrownBy(() -> keys.commit(Txn.when(Txn.absent(c)).otherwise(Txn.add(c, Long.MIN_VALUE))))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage("else op 1: " + Counters.refusal(c, counter(Long.MIN_VALUE), Long.MIN_VALUE));

        keys.put(c, bytes("abc"));
        assertThatThrownBy(() -> keys.add(c, 1))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage(c + " holds 3 bytes, not a counter (exactly 8 bytes)");
    }

    @Test
    void anAttachedKeyGoesWhenItsSessionClosesAndWhenItExpires() {
        LockClient reader = open();
        LockClient closing = open();
        KeyEntry written =
                closing.keys().put(p + "closes", bytes("x"), PutOptions.any().attach());
        assertThat(written.owner()).isEqualTo(closing.sessionId());
        assertThat(reader.keys().get(p + "closes")).contains(written);
        closing.close();
        assertThat(reader.keys().get(p + "closes")).as("gone in the close").isEmpty();

        LockClient crashing = open(Duration.ofSeconds(2));
        crashing.keys().put(p + "expires", bytes("x"), PutOptions.any().attach());
        crashing.keys().put(p + "stays", bytes("x"));
        assertThat(reader.keys()
                        .commit(Txn.when(Txn.sessionAlive(crashing.sessionId())))
                        .succeeded())
                .isTrue();
        await().during(Duration.ofMillis(3_000)) // past its TTL: its heartbeats keep it
                .atMost(Duration.ofSeconds(5))
                .until(() -> reader.keys().get(p + "expires").isPresent());
        CrashSimulation.crash(crashing);
        await().atMost(Duration.ofSeconds(6))
                .until(() -> reader.keys().get(p + "expires").isEmpty());
        assertThat(reader.keys().list(p).entries()).extracting(KeyEntry::key).containsExactly(p + "stays");
        assertThat(reader.keys()
                        .commit(Txn.when(Txn.sessionAlive(crashing.sessionId())))
                        .succeeded())
                .isFalse();
        redis.onRedis(c -> assertThat(c.sync().zscore("holdfast:keys", p + "expires"))
                .as("swept from the index")
                .isNull());
    }

    @Test
    void aSessionIsAliveFromItsConnectUntilItsClose() {
        LockClient reader = open();
        LockClient locksOnly = open();
        Txn alive = Txn.when(Txn.sessionAlive(locksOnly.sessionId()));
        assertThat(reader.keys().commit(alive).succeeded())
                .as("a session without keys")
                .isTrue();
        locksOnly.close();
        assertThat(reader.keys().commit(alive).succeeded())
                .as("after its close")
                .isFalse();
        assertThat(reader.keys()
                        .commit(Txn.when(Txn.sessionAlive("no-such-session")))
                        .succeeded())
                .isFalse();
    }

    @Test
    void aKeyWithATimeToLiveIsGoneWhenItPassesEvenWrittenAgainAndADetachingPutKeepsIt() {
        Keys keys = open().keys();
        keys.put(p + "short", bytes("x"), PutOptions.any().ttl(Duration.ofSeconds(1)));
        keys.put(p + "short", bytes("x2")); // names no lifetime: keeps the deadline
        keys.put(p + "kept", bytes("x"), PutOptions.any().ttl(Duration.ofSeconds(1)));
        keys.put(p + "kept", bytes("y"), PutOptions.any().detach());
        await().atMost(Duration.ofSeconds(3)).until(() -> keys.get(p + "short").isEmpty());
        assertThat(keys.list(p).entries()).extracting(KeyEntry::key).containsExactly(p + "kept");
        redis.onRedis(c -> {
            assertThat(c.sync().zscore("holdfast:keys", p + "short")).isNull();
            assertThat(c.sync().zscore("holdfast:kttl", p + "short")).isNull();
        });
    }

    @Test
    void expiredKeysTheSweepHasNotReachedAreNotRead() {
        // A prefix of its own, and renewals 20 s apart: no other script sweeps these keys meanwhile.
        String own = "sweep-" + UUID.randomUUID() + ":";
        LockClient client = LockClient.open(
                redis.uri() + "?prefix=" + own,
                ClientOptions.builder().sessionTtl(Duration.ofMinutes(1)).build());
        clients.add(client);
        Keys keys = client.keys();
        PutOptions brief = PutOptions.any().ttl(Duration.ofSeconds(1));
        for (int t = 0; t < 3; t++) {
            List<Txn.Op> ops = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                ops.add(Txn.put(p + "many/" + (t * 100 + i), new byte[0], brief));
            }
            keys.commit(Txn.when().then(ops.toArray(Txn.Op[]::new)));
        }
        await().pollDelay(Duration.ofMillis(1_100)).until(() -> true);
        // One step sweeps at most 256 keys: the list itself must leave out the other 44.
        assertThat(keys.list(p + "many/").entries()).isEmpty();
        redis.onRedis(c -> assertThat(c.sync().zcount(own + "kttl", io.lettuce.core.Range.unbounded()))
                .as("keys left to a later sweep")
                .isPositive());
    }

    @Test
    void aTransactionAppliesAllOrNothingAndNamesTheRefusedOp() {
        Keys keys = open().keys();
        keys.put(p + "x", bytes("1"));
        TxnResult r = keys.commit(Txn.when(Txn.version(p + "x", Txn.Order.EQUAL, 1), Txn.absent(p + "y"))
                .then(Txn.put(p + "y", bytes("2")), Txn.add(p + "n", 4), Txn.get(p + "x"), Txn.delete(p + "x")));
        assertThat(r.succeeded()).isTrue();
        assertThat(r.results())
                .containsExactly(
                        new TxnResult.OpResult(1, null, 0),
                        new TxnResult.OpResult(1, null, 4),
                        new TxnResult.OpResult(1, bytes("1"), 0),
                        new TxnResult.OpResult(1, null, 0));

        TxnResult otherwise = keys.commit(Txn.when(Txn.absent(p + "y")).otherwise(Txn.get(p + "y")));
        assertThat(otherwise.succeeded()).isFalse();
        assertThat(otherwise.results().get(0).value()).isEqualTo(bytes("2"));

        assertThatThrownBy(() -> keys.commit(
                        Txn.when().then(Txn.put(p + "z", bytes("new")), Txn.delete(p + "y", 7), Txn.add(p + "n", 1))))
                .isInstanceOf(ConflictException.class)
                .hasMessage("then op 2: " + p + "y is at version 1, not 7");
        assertThat(keys.get(p + "z")).as("the op before the refused one").isEmpty();
        assertThat(keys.get(p + "n").orElseThrow().counter()).isEqualTo(4);
    }

    @Test
    void twoMoversUnderVersionComparesKeepTheSum() throws Exception {
        Keys keys = open().keys();
        keys.put(p + "a", counter(1_000));
        keys.put(p + "b", counter(1_000));
        CompletableFuture<Integer> ab = CompletableFuture.supplyAsync(() -> move(open().keys(), p + "a", p + "b"));
        CompletableFuture<Integer> ba = CompletableFuture.supplyAsync(() -> move(open().keys(), p + "b", p + "a"));
        int moved = ab.get(30, TimeUnit.SECONDS) - ba.get(30, TimeUnit.SECONDS);
        long a = keys.get(p + "a").orElseThrow().counter();
        long b = keys.get(p + "b").orElseThrow().counter();
        assertThat(a + b).isEqualTo(2_000);
        assertThat(a).isEqualTo(1_000 - moved);
    }

    /** Moves 1 from one key to the other 100 times, each a transaction retried on a lost compare. */
    private static int move(Keys keys, String from, String to) {
        for (int done = 0; done < 100; ) {
            KeyEntry f = keys.get(from).orElseThrow();
            KeyEntry t = keys.get(to).orElseThrow();
            TxnResult r = keys.commit(Txn.when(
                            Txn.version(from, Txn.Order.EQUAL, f.version()),
                            Txn.version(to, Txn.Order.EQUAL, t.version()))
                    .then(Txn.put(from, counter(f.counter() - 1)), Txn.put(to, counter(t.counter() + 1))));
            done += r.succeeded() ? 1 : 0;
        }
        return 100;
    }

    @Test
    void aFenceComparePassesWhileTheLeaseIsHeldAndNotAfterItsRelease() throws InterruptedException {
        LockClient client = open();
        LockClient other = open();
        Lease lease = client.lock(p + "lock").acquire(Duration.ofSeconds(5));
        Txn fenced = Txn.when(Txn.fence(lease)).then(Txn.add(p + "fenced", 1));
        assertThat(client.keys().commit(fenced).succeeded()).isTrue();
        assertThat(other.keys().commit(fenced).succeeded())
                .as("another session's fence")
                .isFalse();
        assertThat(other.keys()
                        .commit(Txn.when(Txn.holder(p + "lock", client.sessionId())))
                        .succeeded())
                .isTrue();
        lease.release();
        assertThat(client.keys().commit(fenced).succeeded()).isFalse();
        assertThat(client.keys().get(p + "fenced").orElseThrow().counter()).isEqualTo(1);
        assertThatThrownBy(() -> client.register(p + "fenced").compareAndSet(1, bytes("x"), lease))
                .isInstanceOf(ConflictException.class)
                .hasMessageContaining("no longer a current grant");
    }

    @Test
    void aSessionKeepsAtMostTenThousandKeys() {
        Keys keys = open().keys();
        List<Txn.Op> ops = new ArrayList<>();
        for (int i = 0; i < Keys.MAX_KEYS_PER_SESSION; i++) {
            ops.add(Txn.put(p + i, new byte[0], PutOptions.any().attach()));
            if (ops.size() == Keys.MAX_TXN_OPS || i == Keys.MAX_KEYS_PER_SESSION - 1) {
                keys.commit(Txn.when().then(ops.toArray(Txn.Op[]::new)));
                ops.clear();
            }
        }
        keys.put(p + 0, bytes("again"), PutOptions.any().attach());
        assertThatThrownBy(() ->
                        keys.put(p + "one more", new byte[0], PutOptions.any().attach()))
                .isInstanceOf(QuotaExceededException.class)
                .hasMessageEndingWith(" owns 10000 keys; the limit keys-per-session is 10000"); // as the server
        assertThatThrownBy(() -> keys.commit(Txn.when()
                        .then(
                                Txn.put(p + "a", new byte[0], PutOptions.any().attach()),
                                Txn.put(p + "b", new byte[0], PutOptions.any().attach()))))
                .isInstanceOf(QuotaExceededException.class)
                .hasMessageEndingWith(
                        " would own 10002 keys after this transaction; the limit keys-per-session is 10000");
        assertThat(keys.put(p + "not attached", new byte[0]).version()).isEqualTo(1);
    }

    @Test
    void aWriteSentAgainWithItsIdIsAnsweredAsTheFirstTime() {
        String[] args = {"holdfast:", "s", "1000", "write-" + UUID.randomUUID(), "0", "1", "0", "10000"};
        String[] put = {"P", p + "resent", "AAE=", "0", "0:0"};
        String[] all = new String[args.length + put.length];
        System.arraycopy(args, 0, all, 0, args.length);
        System.arraycopy(put, 0, all, args.length, put.length);
        redis.onRedis(c -> {
            List<Object> first = c.sync().eval(RedisKeyStore.TXN.text(), ScriptOutputType.MULTI, new String[0], all);
            List<Object> again = c.sync().eval(RedisKeyStore.TXN.text(), ScriptOutputType.MULTI, new String[0], all);
            assertThat(first).containsExactly(1L, 1L, 1L, "", "");
            assertThat(again).as("the same write, sent again").isEqualTo(first);
            assertThat(c.sync().hget("holdfast:reg:" + p + "resent", "v")).isEqualTo("1");
        });
    }

    @Test
    void aPutAndADeleteWakeTheWatchOfTheirPrefix() throws Exception {
        RedisBackend watcher = RedisBackend.connect(RedisSettings.parse(redis.uri()), ClientOptions.defaults());
        // One thread sleeps, as a watch does: its first sleeps subscribe and return at once.
        ExecutorService watching = Executors.newSingleThreadExecutor();
        try {
            Keys keys = open().keys();
            WatchTarget target = WatchTarget.keys(p);
            for (int i = 0; i < 20 && sleep(watching, watcher, target, 200) < 150; i++) {
                // until a sleep lasts its pause
            }
            for (Runnable change : List.<Runnable>of(() -> keys.put(p + "k", bytes("x")), () -> keys.delete(p + "k"))) {
                Future<Long> slept = watching.submit(() -> sleepMillis(watcher, target, 20_000));
                await().pollDelay(Duration.ofMillis(200)).until(() -> true);
                assertThat(slept).as("asleep before the change").isNotDone();
                change.run();
                assertThat(slept.get(10, TimeUnit.SECONDS)).isLessThan(5_000);
            }
        } finally {
            watching.shutdownNow();
            watcher.close();
        }
    }

    private static long sleep(ExecutorService on, RedisBackend watcher, WatchTarget target, long millis)
            throws Exception {
        return on.submit(() -> sleepMillis(watcher, target, millis)).get();
    }

    private static long sleepMillis(RedisBackend watcher, WatchTarget target, long millis) throws InterruptedException {
        long start = System.nanoTime();
        watcher.awaitWatched(target, TimeUnit.MILLISECONDS.toNanos(millis));
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }
}
