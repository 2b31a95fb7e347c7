package io.holdfast.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.holdfast.ClientOptions;
import io.holdfast.HolderInfo;
import io.holdfast.LockClient;
import io.holdfast.LockInfo;
import io.holdfast.RetryPolicy;
import io.holdfast.UnavailableException;
import io.holdfast.endpoint.ClientPort;
import io.holdfast.model.Command;
import io.holdfast.model.KeyPage;
import io.holdfast.model.RegisterSet;
import io.holdfast.node.LocalNode;
import io.holdfast.node.LocalTransport;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The client finds the leader: through hints, past dead members, and gives up in bounded time. */
class GrpcFailoverTest {
    @RegisterExtension
    final Closing closing = new Closing();

    private static String uniqueName() {
        return "grpc-failover-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @Test
    void aClientGivenOnlyAFollowerEndsUpOnTheLeaderForCallsAndEvents() throws Exception {
        String nodeName = uniqueName();
        LocalNode node = LocalNode.named(nodeName);
        ClientPort leader = closing.add(ClientPort.start("127.0.0.1", 0, new LocalTransport(node)));
        NotLeaderService followerBackend = new NotLeaderService("127.0.0.1:" + leader.port());
        ClientPort follower = closing.add(ClientPort.start("127.0.0.1", 0, followerBackend));

        LockClient client = closing.add(LockClient.open("holdfast://127.0.0.1:" + follower.port()));
        long token = client.lock("orders/1").acquire(Duration.ofSeconds(5)).fencingToken();

        assertThat(holders(node, "orders/1"))
                .singleElement()
                .satisfies(h -> assertThat(h.sessionId()).isEqualTo(client.sessionId()))
                .satisfies(h -> assertThat(h.fencingToken()).isEqualTo(token));
        assertThat(followerBackend.calls.get())
                .as("the follower was asked first")
                .isPositive();
        await().atMost(Duration.ofSeconds(5)).until(() -> leader.service().streamCount() == 1);
        assertThat(follower.service().streamCount()).isZero();

        // A grant that arrives as an event comes through the leader's stream.
        LockClient other = closing.add(LockClient.open("mem:" + nodeName));
        var held = other.lock("orders/2").acquire(Duration.ofSeconds(1));
        var waiting = client.lock("orders/2").acquireAsync(Duration.ofSeconds(30));
        await().atMost(Duration.ofSeconds(5))
                .until(() ->
                        node.describe("orders/2").map(i -> i.waiters().size()).orElse(0) == 1);
        held.release();
        assertThat(waiting.get(5, TimeUnit.SECONDS).fencingToken()).isGreaterThan(held.fencingToken());
    }

    @Test
    void aPageOfKeysAskedOfAFollowerComesFromTheLeader() throws Exception {
        LocalNode node = LocalNode.named(uniqueName());
        ClientPort leader = closing.add(ClientPort.start("127.0.0.1", 0, new LocalTransport(node)));
        NotLeaderService followerBackend = new NotLeaderService("127.0.0.1:" + leader.port());
        ClientPort follower = closing.add(ClientPort.start("127.0.0.1", 0, followerBackend));
        String session = "keys-page-session-0001";
        node.apply(new Command.OpenSession(session, "test", 30_000, 0));
        for (String key : List.of("svc/b", "svc/a", "svc/c", "svd/a")) {
            node.apply(new RegisterSet(
                    new Command.Invocation(session, key.hashCode() & 0xffff, 0), key, 0, new byte[] {1}, null, 0));
        }
        ClusterTransport transport = closing.add(
                new ClusterTransport(List.of(new MemberAddress("127.0.0.1", follower.port())), Duration.ofSeconds(5)));

        KeyPage first = transport.keys(null, "svc/", null, 2).get(5, TimeUnit.SECONDS);
        KeyPage rest = transport.keys(null, "svc/", "svc/b", 2).get(5, TimeUnit.SECONDS);

        assertThat(first.keys()).extracting(KeyPage.Entry::key).containsExactly("svc/a", "svc/b");
        assertThat(first.more()).isTrue();
        assertThat(rest.keys()).extracting(KeyPage.Entry::key).containsExactly("svc/c");
        assertThat(rest.more()).isFalse();
        assertThat(followerBackend.calls.get())
                .as("the follower was asked first")
                .isPositive();
    }

    @Test
    void aMemberThatCannotBeReachedIsSkipped() throws Exception {
        int dead = deadPort();
        LocalNode node = LocalNode.named(uniqueName());
        ClientPort live = closing.add(ClientPort.start("127.0.0.1", 0, new LocalTransport(node)));

        LockClient client = closing.add(LockClient.open("holdfast://127.0.0.1:" + dead + ",127.0.0.1:" + live.port()));
        long token = client.lock("jobs/1").acquire(Duration.ofSeconds(5)).fencingToken();

        assertThat(holders(node, "jobs/1"))
                .singleElement()
                .satisfies(h -> assertThat(h.fencingToken()).isEqualTo(token));
    }

    @Test
    void membersThatNameEachOtherDoNotLoopTheCallFailsAfterBoundedRedirects() throws Exception {
        NotLeaderService a = new NotLeaderService(null);
        NotLeaderService b = new NotLeaderService(null);
        ClientPort serverA = closing.add(ClientPort.start("127.0.0.1", 0, a));
        ClientPort serverB = closing.add(ClientPort.start("127.0.0.1", 0, b));
        a.leader = "127.0.0.1:" + serverB.port();
        b.leader = "127.0.0.1:" + serverA.port();
        ClusterTransport transport = closing.add(new ClusterTransport(
                List.of(new MemberAddress("127.0.0.1", serverA.port()), new MemberAddress("127.0.0.1", serverB.port())),
                Duration.ofSeconds(5)));

        var reply = transport.submit(new Command.Revoke("x"));

        assertThatThrownBy(() -> reply.get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining("no member");
        int calls = a.calls.get() + b.calls.get();
        // 2 members: per round at most 4 redirects, then each member once more without following its
        // hint; the members say they do not lead, so rounds follow at most every 10 ms for the 3 s of a
        // leader search: at most 65 rounds.
        assertThat(calls).isBetween(2, (2 * 2 + 1 + 2) * 65);
    }

    @Test
    void withEveryMemberDownOpeningFailsWithUnavailableInBoundedTime() {
        String uri = "holdfast://127.0.0.1:" + deadPort() + ",127.0.0.1:" + deadPort();
        ClientOptions options = ClientOptions.builder()
                .retryPolicy(new RetryPolicy(
                        Duration.ofMillis(10), Duration.ofMillis(50), 2.0, 0.5, 3, Duration.ofSeconds(2)))
                .requestTimeout(Duration.ofSeconds(2))
                .build();
        long start = System.nanoTime();

        assertThatThrownBy(() -> LockClient.open(uri, options))
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining("no member");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    }

    private static List<HolderInfo> holders(LocalNode node, String name) {
        return node.describe(name).map(LockInfo::holders).orElse(List.of());
    }

    /** A loopback port nobody listens on (just released by a server). */
    private static int deadPort() {
        try (ClientPort s = ClientPort.start("127.0.0.1", 0, new NotLeaderService(null))) {
            return s.port();
        }
    }
}
