package io.holdfast.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.etcd.jetcd.Client;
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
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Keys on a real etcd: versions, lists, counters, lifetimes, transactions and watches. */
class EtcdKeysTest {
    private static EtcdServer etcd;
    private static LockClient client;
    private static Keys keys;

    @BeforeAll
    static void startEtcd() {
        etcd = EtcdServer.startOrSkip();
        client = LockClient.open(etcd.uri(), ClientOptions.defaults());
        keys = client.keys();
    }

    @AfterAll
    static void stopEtcd() {
        if (client != null) {
            client.close();
        }
        if (etcd != null) {
            etcd.stop();
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
        assertThatThrownBy(() -> keys.put("v/a", utf8("x"), PutOptions.ifAbsent()))
                .isInstanceOf(ConflictException.class);
        assertThat(keys.get("v/a").orElseThrow().text()).isEqualTo("two");
        assertThatThrownBy(() -> keys.delete("v/a", 5)).isInstanceOf(ConflictException.class);
        assertThat(keys.delete("v/a", 2)).isEqualTo(2);
        assertThat(keys.get("v/a")).isEmpty();
        assertThat(keys.delete("v/a"))
                .as("an unconditional delete of an absent key")
                .isZero();
        assertThat(keys.put("v/a", utf8("again"), PutOptions.ifAbsent()).version())
                .as("1 again after a delete")
                .isEqualTo(1);
    }

    @Test
    void aListPagesInByteOrderOfUtf8() {
        for (String k : List.of("ls/z", "ls/é", "ls/a", "ls/Z", "ls/ä", "ls/aa", "lt/other")) {
            keys.put(k, utf8(k));
        }
        KeyListing first = keys.list("ls/", "", 3);
        assertThat(first.entries()).extracting(KeyEntry::key).containsExactly("ls/Z", "ls/a", "ls/aa");
        assertThat(first.more()).isTrue();
        assertThat(Long.parseLong(first.position())).isPositive();
        KeyListing second = keys.list("ls/", first.next(), 3);
        assertThat(second.entries()).extracting(KeyEntry::key).containsExactly("ls/z", "ls/ä", "ls/é");
        assertThat(second.more()).isFalse();
        assertThat(keys.list("ls/").entries()).hasSize(6);
    }

    @Test
    void aCounterAddsInOneCallAndRefusesWhatIsNotACounter() {
        assertThat(keys.add("c/hits", 5)).isEqualTo(5);
        assertThat(keys.add("c/hits", -2)).isEqualTo(3);
        assertThat(keys.get("c/hits").orElseThrow().counter()).isEqualTo(3);
        assertThat(keys.get("c/hits").orElseThrow().version()).isEqualTo(2);
        keys.put("c/text", utf8("hello"));
        assertThatThrownBy(() -> keys.add("c/text", 1))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("c/text holds 5 bytes");
        keys.add("c/max", Long.MAX_VALUE);
        assertThatThrownBy(() -> keys.add("c/max", 1)).isInstanceOf(InvalidArgumentException.class);
    }

    @Test
    void anAttachedKeyIsGoneOnceItsSessionCloses() {
        try (LockClient member = LockClient.open(etcd.uri(), ClientOptions.defaults())) {
            KeyEntry joined = member.keys()
                    .put("group/m1", utf8("10.0.0.1"), PutOptions.any().attach());
            assertThat(joined.owner()).isNotNull();
            assertThat(keys.get("group/m1").orElseThrow().owner()).isEqualTo(joined.owner());
        }
        assertThat(keys.get("group/m1")).isEmpty();
    }

    @Test
    void anAttachedKeyIsGoneOnceItsSessionExpiresAndWatchersAreTold() {
        List<WatchEvent> seen = new CopyOnWriteArrayList<>();
        LockClient member = LockClient.open(
                etcd.uri(),
                ClientOptions.builder().sessionTtl(Duration.ofSeconds(2)).build());
        try (Watch watch = keys.watch("crashed/", seen::add)) {
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !seen.isEmpty()); // the state
            member.keys().put("crashed/m1", utf8("10.0.0.2"), PutOptions.any().attach());
            CrashSimulation.crash(member);
            Awaitility.await()
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> keys.get("crashed/m1").isEmpty());
            Awaitility.await()
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> seen.stream().anyMatch(e -> e.type() == WatchEvent.Type.REGISTER_DELETED));
            WatchEvent gone = seen.stream()
                    .filter(e -> e.type() == WatchEvent.Type.REGISTER_DELETED)
                    .findFirst()
                    .orElseThrow();
            assertThat(gone.name()).isEqualTo("crashed/m1");
            assertThat(gone.cause()).as("etcd does not say why").isEqualTo(WatchEvent.Cause.UNKNOWN);
        } finally {
            member.close();
        }
    }

    /** A client of a session of its own whose keys keep {@link KeyLimitContract#LIMIT} keys per session. */
    private static EtcdBackend limited() {
        return new EtcdBackend(
                Client.builder().endpoints("http://" + etcd.endpoint()).build(),
                EtcdUri.parse(etcd.uri()),
                ClientOptions.defaults());
    }

    @Test
    void aPutPastTheLimitOfKeysPerSessionIsRefusedAndTheCountGoesWithTheSession() {
        EtcdBackend backend = limited();
        long lease;
        KeySpace space = new KeySpace(EtcdUri.parse(etcd.uri()).namespace().getBytes(StandardCharsets.UTF_8));
        try (Client raw =
                Client.builder().endpoints("http://" + etcd.endpoint()).build()) {
            try {
                KeyLimitContract.aPutPastTheLimitIsRefusedAndWritesNothing(
                        backend.keys(KeyLimitContract.LIMIT), "limit/");
                lease = raw.getKVClient()
                        .get(space.key("limit/k1"))
                        .join()
                        .getKvs()
                        .get(0)
                        .getLease();
                assertThat(raw.getKVClient().get(space.attached(lease)).join().getKvs())
                        .as("the count of the session lease's keys")
                        .hasSize(1);
            } finally {
                backend.close();
            }
            assertThat(keys.get("limit/k1")).isEmpty();
            assertThat(raw.getKVClient().get(space.attached(lease)).join().getKvs())
                    .as("the count, once the session is closed")
                    .isEmpty();
        }
    }

    /** The checks of the limit of keys per session, on this store. */
    @Nested
    class KeyLimits extends KeyLimitContract {
        @Override
        protected Limited openLimited() {
            EtcdBackend backend = limited();
            return new Limited(backend.keys(LIMIT), backend::close);
        }

        @Override
        protected Keys other() {
            return keys;
        }
    }

    @Test
    void aKeyWithATimeToLiveIsGoneOnceItPasses() {
        keys.put("ttl/k", utf8("brief"), PutOptions.any().ttl(Duration.ofSeconds(1)));
        assertThat(keys.get("ttl/k")).isPresent();
        Awaitility.await()
                .atMost(Duration.ofSeconds(8))
                .until(() -> keys.get("ttl/k").isEmpty());
        assertThatThrownBy(() -> keys.put(
                        "ttl/both", utf8("x"), PutOptions.any().attach().ttl(Duration.ofSeconds(5))))
                .isInstanceOf(UnsupportedFeatureException.class)
                .hasMessageContaining("one lease");
    }

    @Test
    void twoConcurrentMoversKeepTheSum() throws Exception {
        keys.put("move/a", counter(100));
        keys.put("move/b", counter(0));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (LockClient other = LockClient.open(etcd.uri(), ClientOptions.defaults())) {
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

    /** Moves 1 from one key to the other {@code times} times, each a read and a transaction on its versions. */
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
        return java.nio.ByteBuffer.allocate(8).putLong(value).array();
    }

    @Test
    void aTransactionRunsOneBranchAndNamesARefusedOp() {
        keys.put("t/x", utf8("1"));
        TxnResult r = keys.commit(Txn.when(Txn.value("t/x", utf8("1")), Txn.absent("t/y"))
                .then(Txn.put("t/y", utf8("2")), Txn.add("t/n", 3), Txn.get("t/x"), Txn.delete("t/x")));
        assertThat(r.succeeded()).isTrue();
        assertThat(r.results()).extracting(TxnResult.OpResult::version).containsExactly(1L, 1L, 1L, 1L);
        assertThat(r.results().get(1).counter()).isEqualTo(3);
        assertThat(new String(r.results().get(2).value(), StandardCharsets.UTF_8))
                .isEqualTo("1");
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
        assertThatThrownBy(() -> keys.commit(Txn.when(Txn.sessionAlive("s")).then(Txn.delete("t/y"))))
                .isInstanceOf(UnsupportedFeatureException.class)
                .hasMessageContaining("a session's liveness");
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
            keys.put("outside", utf8("1"));
            keys.delete("w/x");
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() >= 3);
            assertThat(seen.get(1).type()).isEqualTo(WatchEvent.Type.REGISTER_SET);
            assertThat(seen.get(1).name()).isEqualTo("w/x");
            assertThat(seen.get(1).version()).isEqualTo(1);
            assertThat(seen.get(2).type()).isEqualTo(WatchEvent.Type.REGISTER_DELETED);
            assertThat(seen.get(2).version()).isEqualTo(1);
            assertThat(seen.get(2).cause())
                    .as("a key without a lease only a client deletes")
                    .isNull();
            assertThat(watch.position()).isEqualTo(seen.get(2).position());
        }
    }
}
