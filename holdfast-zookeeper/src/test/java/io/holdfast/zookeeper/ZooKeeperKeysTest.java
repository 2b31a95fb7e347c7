package io.holdfast.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import io.holdfast.Txn;
import io.holdfast.TxnResult;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.Watch;
import io.holdfast.WatchEvent;
import io.holdfast.internal.CrashSimulation;
import io.holdfast.testkit.KeyLimitContract;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.data.Stat;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Keys on a real ZooKeeper server with TTL nodes on ({@code zookeeper.extendedTypesEnabled}, and
 * the server's check of TTL nodes every 100 ms instead of every minute): versions, lists, counters,
 * lifetimes, transactions and watches.
 */
class ZooKeeperKeysTest {
    private static ZooKeeperTestServer server;
    private static LockClient client;
    private static Keys keys;

    @BeforeAll
    static void startZooKeeper() throws Exception {
        System.setProperty("zookeeper.extendedTypesEnabled", "true");
        System.setProperty("znode.container.checkIntervalMs", "100");
        server = ZooKeeperTestServer.start();
        client = LockClient.open(server.uri(), ClientOptions.defaults());
        keys = client.keys();
    }

    @AfterAll
    static void stopZooKeeper() throws Exception {
        System.clearProperty("zookeeper.extendedTypesEnabled");
        System.clearProperty("znode.container.checkIntervalMs");
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void versionsGrowByOneAndAConditionalWriteOrDeleteIsRefusedOnAnotherVersion() {
        assertThat(keys.put("v/a", utf8("one")).version()).isEqualTo(1);
        assertThat(keys.put("v/a", utf8("two"), PutOptions.ifVersion(1)).version())
                .isEqualTo(2);
        assertThatThrownBy(() -> keys.put("v/a", utf8("three"), PutOptions.ifVersion(1)))
                .isInstanceOf(ConflictException.class)
                .hasMessage("v/a is at version 2, not 1");
        assertThat(keys.get("v/a").orElseThrow().text()).isEqualTo("two");
        assertThat(keys.put("v/a", utf8("attached"), PutOptions.ifVersion(2).attach())
                        .version())
                .as("a new lifetime is a new node; the version still grows by one")
                .isEqualTo(3);
        assertThatThrownBy(() -> keys.delete("v/a", 5)).isInstanceOf(ConflictException.class);
        assertThat(keys.delete("v/a", 3)).isEqualTo(3);
        assertThat(keys.get("v/a")).isEmpty();
        assertThat(keys.delete("v/a"))
                .as("an unconditional delete of an absent key")
                .isZero();
    }

    @Test
    void aListPagesInByteOrderOfUtf8() {
        for (String k : List.of("ls/z", "ls/é", "ls/a", "ls/Z", "ls/ä", "ls/a/b", "lt/other")) {
            keys.put(k, utf8(k));
        }
        KeyListing first = keys.list("ls/", "", 3);
        assertThat(first.entries()).extracting(KeyEntry::key).containsExactly("ls/Z", "ls/a", "ls/a/b");
        assertThat(first.more()).isTrue();
        KeyListing second = keys.list("ls/", first.next(), 3);
        assertThat(second.entries()).extracting(KeyEntry::key).containsExactly("ls/z", "ls/ä", "ls/é");
        assertThat(second.more()).isFalse();
    }

    @Test
    void aCounterAddsInOneCallAndRefusesWhatIsNotACounter() {
        assertThat(keys.add("c/hits", 5)).isEqualTo(5);
        assertThat(keys.add("c/hits", -2)).isEqualTo(3);
        assertThat(keys.get("c/hits").orElseThrow().counter()).isEqualTo(3);
        keys.put("c/text", utf8("hello"));
        assertThatThrownBy(() -> keys.add("c/text", 1))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("c/text holds 5 bytes");
    }

    @Test
    void anAttachedKeyIsGoneOnceItsSessionClosesOrExpiresAndWatchersAreTold() {
        try (LockClient member = LockClient.open(server.uri(), ClientOptions.defaults())) {
            KeyEntry joined = member.keys()
                    .put("group/m1", utf8("10.0.0.1"), PutOptions.any().attach());
            assertThat(keys.get("group/m1").orElseThrow().owner()).isEqualTo(joined.owner());
        }
        assertThat(keys.get("group/m1")).isEmpty();
        List<WatchEvent> seen = new CopyOnWriteArrayList<>();
        LockClient crashed = LockClient.open(
                server.uri(),
                ClientOptions.builder().sessionTtl(Duration.ofSeconds(1)).build());
        try (Watch watch = keys.watch("crashed/", seen::add)) {
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !seen.isEmpty()); // the state
            crashed.keys().put("crashed/m2", utf8("10.0.0.2"), PutOptions.any().attach());
            Awaitility.await()
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> seen.stream().anyMatch(e -> e.type() == WatchEvent.Type.REGISTER_SET));
            CrashSimulation.crash(crashed);
            Awaitility.await()
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> keys.get("crashed/m2").isEmpty());
            Awaitility.await()
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> seen.stream().anyMatch(e -> e.type() == WatchEvent.Type.REGISTER_DELETED));
            WatchEvent gone = seen.stream()
                    .filter(e -> e.type() == WatchEvent.Type.REGISTER_DELETED)
                    .findFirst()
                    .orElseThrow();
            assertThat(gone.name()).isEqualTo("crashed/m2");
            assertThat(gone.cause()).isEqualTo(WatchEvent.Cause.UNKNOWN);
        } finally {
            crashed.close();
        }
    }

    /** A client of a session of its own whose keys keep {@link KeyLimitContract#LIMIT} keys per session. */
    private static ZooKeeperBackend limited() {
        return ZooKeeperBackend.connect(ZooKeeperUri.parse(server.uri()), ClientOptions.defaults());
    }

    @Test
    void aPutPastTheLimitOfKeysPerSessionIsRefusedAndTheCountGoesWithTheSession() {
        ZooKeeperBackend backend = limited();
        String count;
        try {
            KeyLimitContract.aPutPastTheLimitIsRefusedAndWritesNothing(backend.keys(KeyLimitContract.LIMIT), "limit/");
            count = KeyNode.attached(stat(KeyNode.path("limit/k1")).getEphemeralOwner());
            assertThat(stat(count)).as("the count of the session's keys").isNotNull();
        } finally {
            backend.close();
        }
        assertThat(keys.get("limit/k1")).isEmpty();
        assertThat(stat(count)).as("the count, once the session is closed").isNull();
    }

    /** The checks of the limit of keys per session, on this store. */
    @Nested
    class KeyLimits extends KeyLimitContract {
        @Override
        protected Limited openLimited() {
            ZooKeeperBackend backend = limited();
            return new Limited(backend.keys(LIMIT), backend::close);
        }

        @Override
        protected Keys other() {
            return keys;
        }
    }

    /** The node {@code path} under the test's chroot (null: absent), read by a client of its own. */
    private static Stat stat(String path) {
        try (CuratorFramework raw = CuratorFrameworkFactory.newClient(
                "127.0.0.1:" + server.port(), 10_000, 10_000, new RetryOneTime(100))) {
            raw.start();
            return raw.checkExists().forPath("/holdfast-test" + path);
        } catch (Exception e) {
            throw new IllegalStateException("reading node " + path, e);
        }
    }

    @Test
    void aKeyWithATimeToLiveIsGoneOnceItPassesWhereTheServerHasTtlNodes() {
        assertThat(client.capabilities()).contains(Capability.KEY_TTL);
        keys.put("ttl/k", utf8("brief"), PutOptions.any().ttl(Duration.ofSeconds(1)));
        assertThat(keys.get("ttl/k")).isPresent();
        Awaitility.await()
                .atMost(Duration.ofSeconds(8))
                .until(() -> keys.get("ttl/k").isEmpty());
        System.clearProperty("zookeeper.extendedTypesEnabled");
        try (LockClient without = LockClient.open(server.uri(), ClientOptions.defaults())) {
            assertThat(without.capabilities())
                    .doesNotContain(Capability.KEY_TTL)
                    .contains(Capability.KEYS);
            assertThatThrownBy(() -> without.keys()
                            .put("ttl/refused", utf8("x"), PutOptions.any().ttl(Duration.ofSeconds(5))))
                    .isInstanceOf(UnsupportedFeatureException.class)
                    .hasMessage("the zookeeper provider does not support keys with a time to live");
        } finally {
            System.setProperty("zookeeper.extendedTypesEnabled", "true");
        }
    }

    @Test
    void twoConcurrentMoversKeepTheSum() throws Exception {
        keys.put("move/a", counter(100));
        keys.put("move/b", counter(0));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (LockClient other = LockClient.open(server.uri(), ClientOptions.defaults())) {
            List<Future<?>> movers = List.of(
                    pool.submit(() -> move(keys, "move/a", "move/b", 15)),
                    pool.submit(() -> move(other.keys(), "move/b", "move/a", 10)));
            for (Future<?> f : movers) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        long a = keys.get("move/a").orElseThrow().counter();
        long b = keys.get("move/b").orElseThrow().counter();
        assertThat(a + b).isEqualTo(100);
        assertThat(b).isEqualTo(5);
    }

    private static void move(Keys keys, String from, String to, int times) {
        for (int done = 0; done < times; ) {
            KeyEntry f = keys.get(from).orElseThrow();
            KeyEntry t = keys.get(to).orElseThrow();
            TxnResult r = keys.commit(Txn.when(
                            Txn.version(from, Txn.Order.EQUAL, f.version()),
                            Txn.version(to, Txn.Order.EQUAL, t.version()))
                    .then(Txn.put(from, counter(f.counter() - 1)), Txn.put(to, counter(t.counter() + 1))));
            if (r.succeeded()) {
                done++;
            }
        }
    }

    private static byte[] counter(long value) {
        return ByteBuffer.allocate(8).putLong(value).array();
    }

    @Test
    void aTransactionRunsOneBranchAndNamesARefusedOp() {
        keys.put("t/x", utf8("1"));
        TxnResult r = keys.commit(Txn.when(Txn.value("t/x", utf8("1")), Txn.absent("t/y"))
                .then(
                        Txn.put("t/y", utf8("2")),
                        Txn.add("t/n", 3),
                        Txn.add("t/n", 1),
                        Txn.get("t/x"),
                        Txn.delete("t/x")));
        assertThat(r.succeeded()).isTrue();
        assertThat(r.results()).extracting(TxnResult.OpResult::version).containsExactly(1L, 1L, 2L, 1L, 1L);
        assertThat(r.results().get(2).counter()).isEqualTo(4);
        assertThat(keys.get("t/n").orElseThrow().version()).isEqualTo(2);
        assertThat(keys.get("t/x")).isEmpty();
        TxnResult other =
                keys.commit(Txn.when(Txn.absent("t/y")).then(Txn.delete("t/y")).otherwise(Txn.get("t/y")));
        assertThat(other.succeeded()).isFalse();
        assertThat(keys.get("t/y")).isPresent();
        assertThatThrownBy(() -> keys.commit(
                        Txn.when().then(Txn.put("t/z", utf8("z")), Txn.put("t/y", utf8("3"), PutOptions.ifVersion(7)))))
                .isInstanceOf(ConflictException.class)
                .hasMessage("then op 2: t/y is at version 1, not 7");
        assertThat(keys.get("t/z"))
                .as("nothing of a refused transaction is written")
                .isEmpty();
        assertThatThrownBy(() -> keys.commit(Txn.when(Txn.holder("l", "s")).then(Txn.delete("t/y"))))
                .isInstanceOf(UnsupportedFeatureException.class)
                .hasMessageContaining("a lock's holder");
    }

    @Test
    void aFenceHoldsWhileTheGrantDoesAndIsRefusedAfterItsRelease() throws Exception {
        Lease lease = client.lock("fence/leader").acquire(Duration.ofSeconds(5));
        Txn write = Txn.when(Txn.fence(lease)).then(Txn.put("fence/config", utf8("v")));
        assertThat(keys.commit(write).succeeded()).isTrue();
        lease.close();
        assertThat(keys.commit(write).succeeded()).isFalse();
        assertThat(keys.get("fence/config").orElseThrow().version()).isEqualTo(1);
    }

    @Test
    void aWatchOfAPrefixSeesTheStateThenPutsAndDeletes() {
        keys.put("w/before", utf8("0"));
        List<WatchEvent> seen = new CopyOnWriteArrayList<>();
        try (Watch watch = keys.watch("w/", seen::add)) {
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !seen.isEmpty());
            assertThat(seen.get(0).type()).isEqualTo(WatchEvent.Type.STATE);
            assertThat(seen.get(0).keys()).extracting(KeyEntry::key).containsExactly("w/before");
            keys.put("w/x", utf8("1"));
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() >= 2);
            keys.put("outside", utf8("1"));
            keys.delete("w/x");
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() >= 3);
            assertThat(seen.get(1).type()).isEqualTo(WatchEvent.Type.REGISTER_SET);
            assertThat(seen.get(1).name()).isEqualTo("w/x");
            assertThat(seen.get(2).type()).isEqualTo(WatchEvent.Type.REGISTER_DELETED);
            assertThat(seen.get(2).version()).isEqualTo(1);
            assertThat(seen.get(2).cause())
                    .as("a persistent node only a client deletes")
                    .isNull();
            assertThat(seen).hasSize(3);
        }
    }
}
