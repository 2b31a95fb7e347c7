package io.holdfast.server;

import static io.holdfast.server.KeysOverGrpcTest.bytes;
import static io.holdfast.server.KeysOverGrpcTest.get;
import static io.holdfast.server.KeysOverGrpcTest.next;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.holdfast.client.internal.ClusterTransport;
import io.holdfast.model.Command;
import io.holdfast.model.KeyDelete;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import io.holdfast.protocol.v1.HoldfastGrpc;
import io.holdfast.protocol.v1.KeysRequest;
import io.holdfast.protocol.v1.KeysResponse;
import io.holdfast.protocol.v1.WatchCause;
import io.holdfast.protocol.v1.WatchEventMessage;
import io.holdfast.protocol.v1.WatchEventType;
import io.holdfast.protocol.v1.WatchKind;
import io.holdfast.protocol.v1.WatchRequest;
import io.holdfast.protocol.v1.WatchResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The {@code Keys} rpc and a watch of keys ({@code WATCH_KEYS}) on the wire, against a node on
 * loopback: a page of keys names the position a watch follows from; a reader that asks for {@code
 * deletions} is told of each deleted key with its cause (a client's delete: none; the writer's
 * session closed or expired; the time to live passed), and a reader that does not (older than
 * protocol version 6) reads each as a write of version 0 without a value.
 */
class KeysWatchOverGrpcTest {
    private static final String CLOSER = "keys-watch-closer-0001";
    private static final String EXPIRER = "keys-watch-expirer-001";

    private static TestCluster cluster;
    private static ClusterTransport wire;
    private static ManagedChannel channel;
    private static HoldfastGrpc.HoldfastBlockingStub stub;

    @BeforeAll
    static void start() throws Exception {
        cluster = new TestCluster(1);
        int leader = cluster.awaitLeader(Duration.ofSeconds(20));
        wire = ClusterVersionTest.admin(cluster);
        channel = NettyChannelBuilder.forAddress(
                        "127.0.0.1", cluster.node(leader).clientPort())
                .usePlaintext()
                .build();
        stub = HoldfastGrpc.newBlockingStub(channel);
    }

    @AfterAll
    static void stop() throws Exception {
        channel.shutdownNow();
        wire.close();
        cluster.close();
    }

    @Test
    void aWatchOfKeysTellsEachDeletionWithItsCauseAndOlderReadersReadAnAbsentRegister() throws Exception {
        open(CLOSER, 60_000);
        open(EXPIRER, 6_000); // no heartbeat follows: it expires six seconds after it opened
        // (long enough for the page below to list its key on a loaded machine)
        put(CLOSER, "svc/closed", true, 0);
        put(EXPIRER, "svc/expired", true, 0);
        put(CLOSER, "svc/ttl", false, 6_000);
        put(CLOSER, "svc/deleted", false, 0);
        KeysResponse page = keys(KeysRequest.newBuilder().setPrefix("svc/").build());
        assertThat(page.getKeysList())
                .extracting(k -> k.getKey())
                .containsExactly("svc/closed", "svc/deleted", "svc/expired", "svc/ttl");
        String from = page.getPosition();

        assertThat(get(wire.submit(new KeyDelete(next(CLOSER), "svc/deleted", 1))))
                .isEqualTo(new Reply.Ok(1));
        assertThat(get(wire.submit(new Command.CloseSession(next(CLOSER))))).isEqualTo(Reply.Ok.INSTANCE);

        Map<String, WatchEventMessage> deleted = awaitFour(from, true);
        assertThat(deleted.values()).allSatisfy(e -> {
            assertThat(e.getType()).isEqualTo(WatchEventType.CHANGE_REGISTER_DELETED);
            assertThat(e.getVersion()).isEqualTo(1);
            assertThat(e.hasValue()).isFalse();
        });
        assertThat(deleted.get("svc/deleted").getCause()).isEqualTo(WatchCause.WATCH_CAUSE_UNSPECIFIED);
        assertThat(deleted.get("svc/closed").getCause()).isEqualTo(WatchCause.CAUSE_SESSION_CLOSED);
        assertThat(deleted.get("svc/expired").getCause()).isEqualTo(WatchCause.CAUSE_SESSION_EXPIRED);
        assertThat(deleted.get("svc/ttl").getCause()).isEqualTo(WatchCause.CAUSE_LEASE_TIMEOUT);

        Map<String, WatchEventMessage> older = awaitFour(from, false);
        assertThat(older).containsOnlyKeys(deleted.keySet());
        assertThat(older.values()).allSatisfy(e -> {
            assertThat(e.getType()).isEqualTo(WatchEventType.CHANGE_REGISTER_SET);
            assertThat(e.getVersion()).isZero();
            assertThat(e.hasValue()).isFalse();
        });
    }

    @Test
    void keysArePagedInByteOrderAfterTheKeyAPageEndedWith() throws Exception {
        open("keys-page-writer-00001", 60_000);
        for (String key : new String[] {"page/c", "page/a", "page/b", "pages/x"}) {
            put("keys-page-writer-00001", key, false, 0);
        }
        KeysResponse first =
                keys(KeysRequest.newBuilder().setPrefix("page/").setLimit(2).build());
        assertThat(first.getKeysList()).extracting(k -> k.getKey()).containsExactly("page/a", "page/b");
        assertThat(first.getMore()).isTrue();
        KeysResponse second = keys(KeysRequest.newBuilder()
                .setPrefix("page/")
                .setAfter("page/b")
                .setLimit(2)
                .build());
        assertThat(second.getKeysList()).extracting(k -> k.getKey()).containsExactly("page/c");
        assertThat(second.getMore()).isFalse();
        assertThat(second.getKeys(0).getValue().toStringUtf8()).isEqualTo("page/c");
        assertThat(second.getKeys(0).getVersion()).isEqualTo(1);
        assertThat(keys(KeysRequest.newBuilder().setPrefix("page/").build()).getKeysCount())
                .as("no limit: up to 1,000")
                .isEqualTo(3);
    }

    @Test
    void aKeysRequestOutOfBoundsIsRefusedNamingTheField() {
        assertRefused(KeysRequest.newBuilder().setLimit(1_001).build(), "keys.limit must be 1 to 1000");
        assertRefused(KeysRequest.newBuilder().setLimit(-1).build(), "keys.limit must be 1 to 1000");
        assertRefused(KeysRequest.newBuilder().setPrefix("a/\u0001").build(), "keys.prefix: ");
        assertRefused(KeysRequest.newBuilder().setAfter("a/../b").build(), "keys.after: ");
    }

    private static void assertRefused(KeysRequest request, String message) {
        assertThatThrownBy(() -> keys(request))
                .isInstanceOfSatisfying(
                        StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT))
                .hasMessageContaining(message);
    }

    /** Polls the watch of {@code svc/} from {@code from} until four keys were deleted; the last event of each. */
    private static Map<String, WatchEventMessage> awaitFour(String from, boolean deletions) {
        List<WatchEventMessage> seen = new ArrayList<>();
        String[] after = {from};
        Map<String, WatchEventMessage> deleted = new TreeMap<>();
        Awaitility.await("four keys deleted")
                .atMost(Duration.ofSeconds(30))
                .pollDelay(Duration.ZERO)
                .until(() -> {
                    WatchResponse r = stub.withDeadlineAfter(10, TimeUnit.SECONDS)
                            .watch(WatchRequest.newBuilder()
                                    .setKind(WatchKind.WATCH_KEYS)
                                    .setName("svc/")
                                    .setAfter(after[0])
                                    .setWaitMillis(2_000)
                                    .setDeletions(deletions)
                                    .build());
                    assertThat(r.getGap()).as("a gap").isFalse();
                    seen.addAll(r.getEventsList());
                    after[0] = r.getNext();
                    for (WatchEventMessage e : seen) {
                        if (e.getType() == WatchEventType.CHANGE_REGISTER_DELETED || e.getVersion() == 0) {
                            deleted.put(e.getName(), e);
                        }
                    }
                    return deleted.size() == 4;
                });
        return deleted;
    }

    private static KeysResponse keys(KeysRequest request) {
        return stub.withDeadlineAfter(10, TimeUnit.SECONDS).keys(request);
    }

    private static void open(String session, long ttlMillis) throws Exception {
        assertThat(get(wire.submit(new Command.OpenSession(session, "raw-" + session, ttlMillis, 0))))
                .isEqualTo(Reply.Ok.INSTANCE);
    }

    private static void put(String session, String key, boolean attach, long ttlMillis) throws Exception {
        assertThat(get(wire.submit(
                        new RegisterSet(next(session), key, 0, bytes(key), null, 0, true, attach, ttlMillis))))
                .isEqualTo(new Reply.Written(1));
    }
}
