package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ErrorCode;
import io.holdfast.LockMode;
import io.holdfast.client.internal.ClusterTransport;
import io.holdfast.model.Command;
import io.holdfast.model.Command.Invocation;
import io.holdfast.model.CounterAdd;
import io.holdfast.model.KeyDelete;
import io.holdfast.model.KeyPage;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import io.holdfast.model.Transaction;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The key commands of protocol version 6 submitted over gRPC to a node on loopback, as a client's
 * transport sends them: a leased write (attached, and with a time to live), a delete with and
 * without the right version, a counter, and transactions (either branch, an op that is refused,
 * a fence as a compare); and the same invocation sent again after its answer was lost is answered
 * from the table's memory, not applied twice.
 */
class KeysOverGrpcTest {
    private static final String WRITER = "keys-grpc-writer-000001";
    private static final String OTHER = "keys-grpc-other-0000001";

    private static TestCluster cluster;
    private static ClusterTransport wire;
    private static final AtomicLong seq = new AtomicLong();

    @BeforeAll
    static void start() throws Exception {
        cluster = new TestCluster(1);
        cluster.awaitLeader(Duration.ofSeconds(20));
        wire = ClusterVersionTest.admin(cluster);
        for (String id : new String[] {WRITER, OTHER}) {
            assertThat(get(wire.submit(new Command.OpenSession(id, "raw-" + id, 60_000, 0))))
                    .isEqualTo(Reply.Ok.INSTANCE);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        wire.close();
        cluster.close();
    }

    @Test
    void aLeasedWriteAttachesTheKeyOrGivesItATimeToLive() throws Exception {
        assertThat(get(wire.submit(leased(WRITER, "lease/attached", true, 0)))).isEqualTo(new Reply.Written(1));
        assertThat(get(wire.submit(leased(WRITER, "lease/ttl", false, 60_000)))).isEqualTo(new Reply.Written(1));

        List<KeyPage.Entry> keys = get(wire.keys(null, "lease/", "", 10)).keys();
        assertThat(keys).extracting(KeyPage.Entry::key).containsExactly("lease/attached", "lease/ttl");
        assertThat(keys.get(0).owner()).isEqualTo(WRITER);
        assertThat(keys.get(0).expiresAt()).isZero();
        assertThat(keys.get(1).owner()).isNull();
        assertThat(keys.get(1).expiresAt()).isPositive();
    }

    @Test
    void aTimeToLiveDeletesTheKey() throws Exception {
        assertThat(get(wire.submit(leased(WRITER, "lease/short", false, 1_000))))
                .isEqualTo(new Reply.Written(1));
        Awaitility.await("the key's time to live passes")
                .atMost(Duration.ofSeconds(10))
                .until(() -> get(wire.readRegister("lease/short")).isEmpty());
    }

    @Test
    void aDeleteWithAnotherVersionConflictsAndWithItsVersionDeletes() throws Exception {
        assertThat(get(wire.submit(put(WRITER, "del/k", 0)))).isEqualTo(new Reply.Written(1));

        Reply conflict = get(wire.submit(new KeyDelete(next(WRITER), "del/k", 5)));
        assertThat(conflict).isInstanceOf(Reply.Failed.class);
        assertThat(((Reply.Failed) conflict).code()).isEqualTo(ErrorCode.CONFLICT);
        assertThat(((Reply.Failed) conflict).currentVersion()).isEqualTo(1);
        assertThat(get(wire.readRegister("del/k"))).isPresent();

        assertThat(get(wire.submit(new KeyDelete(next(WRITER), "del/k", 1)))).isEqualTo(new Reply.Ok(1));
        assertThat(get(wire.readRegister("del/k"))).isEmpty();
    }

    /**
     * The Java client's {@code deletePrefix} over the client port: more keys than one page holds,
     * so two commands of protocol version 9; every key of the prefix goes, and no other.
     */
    @Test
    void theJavaClientListsKeysOnlyAndDeletesAPrefixOfMoreThanOnePage() throws Exception {
        try (io.holdfast.LockClient client = io.holdfast.LockClient.open(cluster.uri())) {
            io.holdfast.Keys keys = client.keys();
            int n = io.holdfast.Keys.MAX_PAGE + 5;
            for (int from = 0; from < n; from += io.holdfast.Keys.MAX_TXN_OPS) {
                List<io.holdfast.Txn.Op> puts = new java.util.ArrayList<>();
                for (int i = from; i < Math.min(n, from + io.holdfast.Keys.MAX_TXN_OPS); i++) {
                    puts.add(io.holdfast.Txn.put(String.format("bulk/%05d", i), new byte[] {1}));
                }
                assertThat(keys.commit(io.holdfast.Txn.when().then(puts.toArray(io.holdfast.Txn.Op[]::new)))
                                .succeeded())
                        .isTrue();
            }
            keys.put("bulkhead", new byte[] {2});

            io.holdfast.KeyListing only = keys.list("bulk/", "", 2, true);
            assertThat(only.entries())
                    .extracting(io.holdfast.KeyEntry::key)
                    .containsExactly("bulk/00000", "bulk/00001");
            assertThat(only.entries().get(0).value()).as("keys only: no value").isEmpty();
            assertThat(only.entries().get(0).version()).isEqualTo(1);
            assertThat(only.more()).isTrue();
            assertThat(get(wire.keys(null, "bulk/", "", 1, true)).keys().get(0).value())
                    .isEmpty();
            io.grpc.ManagedChannel channel = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.forAddress(
                            "127.0.0.1", cluster.node(0).clientPort())
                    .usePlaintext()
                    .build();
            try {
                io.holdfast.protocol.v1.KeysResponse raw = io.holdfast.protocol.v1.HoldfastGrpc.newBlockingStub(channel)
                        .keys(io.holdfast.protocol.v1.KeysRequest.newBuilder()
                                .setPrefix("bulk/")
                                .setLimit(1)
                                .setKeysOnly(true)
                                .build());
                assertThat(raw.getKeys(0).getKey()).isEqualTo("bulk/00000");
                assertThat(raw.getKeys(0).getValue().isEmpty())
                        .as("the server sends no value")
                        .isTrue();
            } finally {
                channel.shutdownNow();
            }
            assertThat(keys.list("bulk/", "", 1).entries().get(0).value()).containsExactly(1);

            assertThat(keys.deletePrefix("bulk/")).isEqualTo(n);
            assertThat(keys.list("bulk").entries())
                    .extracting(io.holdfast.KeyEntry::key)
                    .containsExactly("bulkhead");
            assertThat(keys.deletePrefix("bulk/")).isZero();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> keys.deletePrefix(""))
                    .isInstanceOf(io.holdfast.InvalidArgumentException.class)
                    .hasMessage(io.holdfast.Keys.EMPTY_PREFIX_DELETE);
        }
    }

    /**
     * List, then watch from the listing's position: a write made between the two is told first, no
     * {@code STATE}; without a position the watch starts with one; a position the service never
     * gives is refused before anything starts.
     */
    @Test
    void aWatchFromAListingsPositionTellsTheWriteMadeBetweenThem() throws Exception {
        try (io.holdfast.LockClient client = io.holdfast.LockClient.open(cluster.uri())) {
            io.holdfast.Keys keys = client.keys();
            keys.put("from/a", new byte[] {1});
            io.holdfast.KeyListing listing = keys.list("from/");
            assertThat(listing.entries()).extracting(io.holdfast.KeyEntry::key).containsExactly("from/a");
            keys.put("from/b", new byte[] {2}); // after the listing, before the watch

            java.util.concurrent.BlockingQueue<io.holdfast.WatchEvent> events =
                    new java.util.concurrent.LinkedBlockingQueue<>();
            try (io.holdfast.Watch w = keys.watch("from/", listing.position(), events::add)) {
                io.holdfast.WatchEvent first = events.poll(20, TimeUnit.SECONDS);
                assertThat(first).isNotNull();
                assertThat(first.type()).isEqualTo(io.holdfast.WatchEvent.Type.REGISTER_SET);
                assertThat(first.name()).isEqualTo("from/b");
                keys.delete("from/a");
                io.holdfast.WatchEvent second = events.poll(20, TimeUnit.SECONDS);
                assertThat(second).isNotNull();
                assertThat(second.type()).isEqualTo(io.holdfast.WatchEvent.Type.REGISTER_DELETED);
                assertThat(second.name()).isEqualTo("from/a");
            }
            events.clear();
            try (io.holdfast.Watch w = keys.watch("from/", "", events::add)) {
                io.holdfast.WatchEvent first = events.poll(20, TimeUnit.SECONDS);
                assertThat(first).isNotNull();
                assertThat(first.type())
                        .as("no position: the state first")
                        .isEqualTo(io.holdfast.WatchEvent.Type.STATE);
            }
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> keys.watch("from/", "yesterday", e -> {}))
                    .isInstanceOf(io.holdfast.InvalidArgumentException.class)
                    .hasMessageContaining("the position 'yesterday' is not one the service gave");
        }
    }

    @Test
    void aCounterAddsAndAnswersTheNewValue() throws Exception {
        assertThat(get(wire.submit(new CounterAdd(next(WRITER), "count/a", 5)))).isEqualTo(new Reply.Counted(5, 1));
        assertThat(get(wire.submit(new CounterAdd(next(WRITER), "count/a", -7))))
                .isEqualTo(new Reply.Counted(-2, 2));
        assertThat(get(wire.readRegister("count/a")).orElseThrow().value())
                .isEqualTo(ByteBuffer.allocate(8).putLong(-2).array());
    }

    @Test
    void aTransactionRunsThenWhenItsComparesHoldAndOtherwiseWhenNot() throws Exception {
        Transaction create = new Transaction(
                next(WRITER),
                List.of(new Transaction.Compare.Absent("txn/a")),
                List.of(
                        new Transaction.Op.Put("txn/a", KeyDelete.ANY_VERSION, bytes("one"), false, 0),
                        new Transaction.Op.Add("txn/n", 3),
                        new Transaction.Op.Get("txn/a")),
                List.of(new Transaction.Op.Get("txn/a")));

        Reply.Transacted first = (Reply.Transacted) get(wire.submit(create));
        assertThat(first.succeeded()).isTrue();
        assertThat(first.results()).hasSize(3);
        assertThat(first.results().get(0).version()).isEqualTo(1);
        assertThat(first.results().get(1).counter()).isEqualTo(3);
        assertThat(first.results().get(2).value()).isEqualTo(bytes("one"));

        Reply.Transacted second = (Reply.Transacted)
                get(wire.submit(new Transaction(next(WRITER), create.compares(), create.then(), create.otherwise())));
        assertThat(second.succeeded()).isFalse();
        assertThat(second.results()).singleElement().satisfies(r -> {
            assertThat(r.version()).isEqualTo(1);
            assertThat(r.value()).isEqualTo(bytes("one"));
        });
        assertThat(get(wire.readRegister("txn/n")).orElseThrow().version()).isEqualTo(1);
    }

    @Test
    void aTransactionWhoseOpIsRefusedChangesNothing() throws Exception {
        assertThat(get(wire.submit(put(WRITER, "txn/kept", 0)))).isEqualTo(new Reply.Written(1));

        Reply refused = get(wire.submit(new Transaction(
                next(WRITER),
                List.of(),
                List.of(
                        new Transaction.Op.Put("txn/new", KeyDelete.ANY_VERSION, bytes("x"), false, 0),
                        new Transaction.Op.Add("txn/kept-count", 1),
                        new Transaction.Op.Delete("txn/kept", 7)),
                List.of())));

        assertThat(refused).isInstanceOf(Reply.Failed.class);
        assertThat(((Reply.Failed) refused).code()).isEqualTo(ErrorCode.CONFLICT);
        assertThat(((Reply.Failed) refused).message()).startsWith("then op 3");
        assertThat(get(wire.readRegister("txn/new"))).isEmpty();
        assertThat(get(wire.readRegister("txn/kept-count"))).isEmpty();
        assertThat(get(wire.readRegister("txn/kept")).orElseThrow().version()).isEqualTo(1);
    }

    @Test
    void aFenceCompareHoldsForTheHoldersOwnTokenOnly() throws Exception {
        Reply granted =
                get(wire.submit(new Command.Acquire(next(WRITER), "txn/lock", LockMode.EXCLUSIVE, 1, 1, 1, 0, 0)));
        long token = ((Reply.Granted) granted).token();

        assertThat(fencedPut(WRITER, token).succeeded())
                .as("the holder's token")
                .isTrue();
        assertThat(fencedPut(WRITER, token + 1).succeeded())
                .as("a token never granted")
                .isFalse();
        assertThat(fencedPut(OTHER, token).succeeded())
                .as("another session's token")
                .isFalse();
        assertThat(get(wire.readRegister("txn/fenced")).orElseThrow().version()).isEqualTo(1);
    }

    @Test
    void theSameInvocationSentAgainAfterALostAnswerIsAppliedOnce() throws Exception {
        CounterAdd add = new CounterAdd(next(WRITER), "retry/n", 10);
        Reply answer = get(wire.submit(add));
        // The answer was lost on the way: the client sends the same invocation again.
        assertThat(get(wire.submit(add))).isEqualTo(answer).isEqualTo(new Reply.Counted(10, 1));

        Transaction txn =
                new Transaction(next(WRITER), List.of(), List.of(new Transaction.Op.Add("retry/n", 1)), List.of());
        Reply.Transacted once = (Reply.Transacted) get(wire.submit(txn));
        Reply.Transacted again = (Reply.Transacted) get(wire.submit(txn));
        assertThat(again.succeeded()).isTrue();
        assertThat(again.results().get(0).counter())
                .isEqualTo(once.results().get(0).counter())
                .isEqualTo(11);
        assertThat(get(wire.readRegister("retry/n")).orElseThrow().value())
                .as("added once each")
                .isEqualTo(ByteBuffer.allocate(8).putLong(11).array());
    }

    private static Reply.Transacted fencedPut(String session, long token) throws Exception {
        return (Reply.Transacted) get(wire.submit(new Transaction(
                next(session),
                List.of(new Transaction.Compare.Fence("txn/lock", token)),
                List.of(new Transaction.Op.Put("txn/fenced", 0, bytes("fenced"), false, 0)),
                List.of())));
    }

    private static RegisterSet leased(String session, String key, boolean attach, long ttlMillis) {
        return new RegisterSet(next(session), key, 0, bytes(key), null, 0, true, attach, ttlMillis);
    }

    private static RegisterSet put(String session, String key, long expectedVersion) {
        return new RegisterSet(next(session), key, expectedVersion, bytes(key), null, 0);
    }

    /** A fresh invocation of {@code session}; nothing is acknowledged, so every answer is kept. */
    static Invocation next(String session) {
        return new Invocation(session, seq.incrementAndGet(), 0);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static <T> T get(CompletableFuture<T> f) throws Exception {
        return f.get(20, TimeUnit.SECONDS);
    }
}
