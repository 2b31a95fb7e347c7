package io.holdfast.server.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.internal.DaemonThreads;
import io.holdfast.server.TestCluster;
import io.holdfast.server.raft.TableQuery;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientRpc;
import org.apache.ratis.client.impl.RaftClientImpl;
import org.apache.ratis.client.impl.UnorderedAsync;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.Test;

/**
 * A Ratis client of the members that first asks one that does not lead, as a member's link to its
 * leader does after the leader's death. The refusal makes the client reset its connection to that
 * member; here each reset takes 3 s, as Ratis's close of a channel with a call still on it does
 * (its {@code GrpcUtil.shutdownManagedChannel}). The request goes on to the leader at once, not
 * after the reset.
 */
class ResetsApartTest {
    /** The longest a reset of {@link SlowResets} takes. */
    private static final long RESET_MILLIS = 3_000;

    @Test
    void withoutItTheRequestWaitsForTheReset() throws Exception {
        try (TestCluster cluster = new TestCluster(3)) {
            assertThat(askedAtAFollowerFirst(cluster, SlowResets::new))
                    .as("Ratis 3.3.0 resets a refusing member's connection on the reply's way")
                    .isGreaterThanOrEqualTo(Duration.ofMillis(RESET_MILLIS - 200));
        }
    }

    @Test
    void theRequestGoesOnToTheLeaderAtOnce() throws Exception {
        try (TestCluster cluster = new TestCluster(3)) {
            assertThat(askedAtAFollowerFirst(
                            cluster,
                            (p, q) -> new ResetsApart(
                                    new SlowResets(p, q), DaemonThreads.threadPerTask("test-client-reset"))))
                    .isLessThan(Duration.ofMillis(RESET_MILLIS / 2));
        }
    }

    @Test
    void everyClientOfTheMembersResetsApart() throws Exception {
        try (RaftClientRpc rpc = RaftSettings.clientRpc(new Parameters(), new RaftProperties())) {
            assertThat(rpc).isInstanceOf(ResetsApart.class);
        }
    }

    /** A failure Ratis does not reconnect on, unasked: no reset, and said so, as Ratis's RPCs do. */
    @Test
    void decidesAsRatisDoesAndResetsOnlyApart() {
        List<String> resets = new ArrayList<>();
        List<Runnable> apart = new ArrayList<>();
        ResetsApart rpc = new ResetsApart(new Recording(resets), apart::add);
        RaftPeerId n2 = RaftPeerId.valueOf("n2");

        assertThat(rpc.handleException(n2, new IllegalStateException("not a connection's"), false))
                .isFalse();
        assertThat(apart).isEmpty();

        assertThat(rpc.handleException(n2, new java.net.SocketException("reset"), false))
                .isTrue();
        assertThat(rpc.handleException(n2, new IllegalStateException("asked"), true))
                .isTrue();
        assertThat(resets).as("nothing reset on the caller's thread").isEmpty();
        apart.forEach(Runnable::run);
        assertThat(resets).containsExactly("n2 true", "n2 true");
    }

    /** An RPC that only records the resets it is asked for. */
    private record Recording(List<String> resets) implements RaftClientRpc {
        @Override
        public RaftClientReply sendRequest(RaftClientRequest request) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean handleException(RaftPeerId serverId, Throwable t, boolean reconnect) {
            resets.add(serverId + " " + reconnect);
            return true;
        }

        @Override
        public void addRaftPeers(java.util.Collection<RaftPeer> peers) {}

        @Override
        public void close() {}
    }

    /** Holdfast's RPC as Ratis makes it, whose resets take {@link #RESET_MILLIS} each. */
    private static final class SlowResets implements RaftClientRpc {
        private final RaftClientRpc rpc;
        private final java.util.concurrent.CountDownLatch never = new java.util.concurrent.CountDownLatch(1);

        SlowResets(Parameters parameters, RaftProperties properties) {
            this.rpc = RaftSettings.ratisClientRpc(parameters, properties);
        }

        @Override
        public java.util.concurrent.CompletableFuture<RaftClientReply> sendRequestAsync(RaftClientRequest r) {
            return rpc.sendRequestAsync(r);
        }

        @Override
        public java.util.concurrent.CompletableFuture<RaftClientReply> sendRequestAsyncUnordered(RaftClientRequest r) {
            return rpc.sendRequestAsyncUnordered(r);
        }

        @Override
        public RaftClientReply sendRequest(RaftClientRequest r) throws java.io.IOException {
            return rpc.sendRequest(r);
        }

        @Override
        public boolean handleException(RaftPeerId serverId, Throwable t, boolean reconnect) {
            if (reconnect || rpc.shouldReconnect(t)) {
                try {
                    never.await(RESET_MILLIS, TimeUnit.MILLISECONDS); // a close waiting for a call
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return rpc.handleException(serverId, t, reconnect);
        }

        @Override
        public boolean shouldReconnect(Throwable t) {
            return rpc.shouldReconnect(t);
        }

        @Override
        public void addRaftPeers(java.util.Collection<RaftPeer> peers) {
            rpc.addRaftPeers(peers);
        }

        @Override
        public void close() throws java.io.IOException {
            never.countDown();
            rpc.close();
        }
    }

    /**
     * How long a read-only request of a client whose leader is a follower takes to be answered by
     * the leader, on an RPC made by {@code rpc}; the client's first request (at the leader, on
     * another client) is made before, so that neither JIT nor first connections count.
     */
    private static Duration askedAtAFollowerFirst(
            TestCluster cluster, BiFunction<Parameters, RaftProperties, RaftClientRpc> rpc) throws Exception {
        int leader = cluster.awaitLeader(Duration.ofSeconds(20));
        String follower = "n" + ((leader + 1) % 3 + 1);
        Parameters parameters = RaftSettings.parameters(cluster.config(0));
        try (RaftClient warm = client(cluster, parameters, "n" + (leader + 1), rpc)) {
            ask(warm);
        }
        try (RaftClient client = client(cluster, parameters, follower, rpc)) {
            long start = System.nanoTime();
            RaftClientReply reply = ask(client);
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertThat(reply.isSuccess()).isTrue();
            assertThat(reply.getServerId()).hasToString("n" + (leader + 1));
            return took;
        }
    }

    private static RaftClientReply ask(RaftClient client) throws Exception {
        return UnorderedAsync.send(
                        RaftClientRequest.readRequestType(true),
                        new TableQuery.ClusterId().message(),
                        null,
                        (RaftClientImpl) client)
                .get(20, TimeUnit.SECONDS);
    }

    private static RaftClient client(
            TestCluster cluster,
            Parameters parameters,
            String leader,
            BiFunction<Parameters, RaftProperties, RaftClientRpc> rpc) {
        RaftProperties properties = new RaftProperties();
        return RaftClient.newBuilder()
                .setRaftGroup(cluster.raftGroup())
                .setLeaderId(RaftPeerId.valueOf(leader))
                .setProperties(properties)
                .setParameters(parameters)
                .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(
                        3, TimeDuration.valueOf(20, TimeUnit.MILLISECONDS)))
                .setClientRpc(rpc.apply(parameters, properties))
                .build();
    }
}
