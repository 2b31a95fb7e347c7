package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.holdfast.ClientOptions;
import io.holdfast.ConflictException;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.client.HoldfastProvider;
import io.holdfast.client.internal.ClusterTransport;
import io.holdfast.model.ClusterInfo;
import io.holdfast.model.MembershipChange;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.config.StartupException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.junit.jupiter.api.Test;

/**
 * Changing the members of a running cluster (real nodes on loopback, changes over the gRPC admin
 * call as {@code holdfast members} makes them) while clients hold, wait and lock: no lock is ever
 * held twice, tokens only rise, and waiters are served in the order they came.
 */
class MembershipTest {
    private static final ClientOptions OPTIONS =
            ClientOptions.builder().sessionTtl(Duration.ofSeconds(15)).build();

    @Test
    void growsFromThreeToFiveAndShrinksBackUnderLoad() throws Exception {
        try (TestCluster cluster = TestCluster.withMembers(5, 3);
                ClusterTransport admin = admin(cluster)) {
            cluster.awaitLeader(Duration.ofSeconds(20));
            LockClient holder = cluster.open(OPTIONS);
            Lease held = holder.lock("m/queue").acquire(Duration.ofSeconds(10));
            List<CompletableFuture<Lease>> waiters = queueUp(cluster, holder, "m/queue", 3);
            List<Integer> leaving = new ArrayList<>();
            try (Load load = new Load(cluster, 3, 4)) {
                for (int i = 3; i < 5; i++) {
                    cluster.start(i);
                    ClusterInfo after = add(admin, cluster, i, false);
                    assertThat(after.members())
                            .extracting(ClusterInfo.Member::id)
                            .contains("n" + (i + 1));
                }
                assertThat(voters(get(admin.cluster()))).containsExactly("n1", "n2", "n3", "n4", "n5");
                awaitCaughtUp(cluster, 3);
                awaitCaughtUp(cluster, 4);
                load.awaitProgress();

                // Shrink by two of the first three, the leader among them: n1 is made to lead first.
                get(admin.changeMembers(null, new MembershipChange.TransferLeader("n1")));
                await("n1 leads").atMost(Duration.ofSeconds(10)).until(() -> cluster.leaderIndex() == 0);
                leaving.addAll(List.of(0, 1));
                for (int i : leaving) {
                    // After the leader removed itself, the others elect a new one first.
                    cluster.awaitLeader(Duration.ofSeconds(20));
                    remove(admin, "n" + (i + 1));
                    cluster.stop(i);
                }
                cluster.awaitLeader(Duration.ofSeconds(20));
                assertThat(voters(get(admin.cluster()))).containsExactly("n3", "n4", "n5");
                load.awaitProgress();
                load.assertSafe();
            }
            // The removed leader started again with its data is refused: its data records that it
            // left (it committed its removal). A removed follower may never hear of its removal;
            // see docs/operations.md.
            int removed = leaving.get(0);
            assertThatThrownBy(() -> cluster.start(removed))
                    .isInstanceOf(StartupException.class)
                    .hasMessageContaining("node n" + (removed + 1) + " is no longer a member of its cluster")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
            // The holder kept its lock through it all, and the waiters are served in their order.
            assertThat(holder.admin().isCurrentHolder("m/queue", held.fencingToken()))
                    .isTrue();
            held.release();
            assertServedInOrder(waiters, held.fencingToken());
        }
    }

    @Test
    void replacesAMemberWhoseDataDirectoryWasLost() throws Exception {
        try (TestCluster cluster = TestCluster.withMembers(4, 3);
                ClusterTransport admin = admin(cluster)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            int lost = (leader + 1) % 3;
            String lostId = "n" + (lost + 1);
            LockClient holder = cluster.open(OPTIONS);
            Lease held = holder.lock("r/held").acquire(Duration.ofSeconds(10));
            try (Load load = new Load(cluster, 2, 3)) {
                cluster.stop(lost);
                cluster.wipe(lost);
                get(admin.changeMembers(null, new MembershipChange.Remove(lostId)));

                // The replacement joins as a learner, catches up, and only then gets a vote.
                cluster.start(3);
                add(admin, cluster, 3, true);
                ClusterInfo withLearner = get(admin.cluster());
                assertThat(withLearner.members())
                        .filteredOn(m -> m.id().equals("n4"))
                        .extracting(ClusterInfo.Member::role)
                        .containsExactly("learner");
                assertThat(voters(withLearner)).hasSize(2).doesNotContain("n4");
                awaitCaughtUp(cluster, 3);
                get(admin.changeMembers(null, new MembershipChange.Promote("n4")));
                assertThat(voters(get(admin.cluster()))).hasSize(3).contains("n4");
                load.awaitProgress();

                // The replacement is a voter that counts: with the leader of the moment crashed,
                // it and the other elect a leader, and the cluster serves. It votes only if it left
                // Ratis's STARTING state: started empty (no members of its own) and added as a
                // learner, it did so only once the leader that promoted it handed over (Ratis's
                // leader never counts a learner as caught up). Without the hand-over this fails at
                // "n4 runs as a voter".
                await("n4 runs as a voter")
                        .atMost(Duration.ofSeconds(10))
                        .until(() ->
                                cluster.node(3).parts().division().getInfo().getLifeCycleState()
                                        == org.apache.ratis.util.LifeCycle.State.RUNNING);
                int crashed = cluster.awaitLeader(Duration.ofSeconds(20));
                cluster.crash(crashed);
                assertThat(cluster.awaitLeader(Duration.ofSeconds(30))).isNotEqualTo(crashed);
                load.awaitProgress();
                load.assertSafe();
            }
            assertThat(holder.admin().isCurrentHolder("r/held", held.fencingToken()))
                    .isTrue();
            Lease next = holder.lock("r/after").acquire(Duration.ofSeconds(10));
            assertThat(next.fencingToken()).isGreaterThan(held.fencingToken());

            // The way back under the old id: removed, the empty node is no member anyone remembers,
            // so it starts; added again, it is brought up to date from the start of the log.
            cluster.start(lost);
            add(admin, cluster, lost, false);
            assertThat(voters(get(admin.cluster()))).contains(lostId, "n4");
            awaitCaughtUp(cluster, lost);
        }
    }

    @Test
    void transfersTheLeadershipUnderLoadAndRefusesWhatMakesNoSense() throws Exception {
        try (TestCluster cluster = new TestCluster(3);
                ClusterTransport admin = admin(cluster)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            try (Load load = new Load(cluster, 3, 3)) {
                load.awaitProgress();
                int target = (leader + 1) % 3;
                get(admin.changeMembers(null, new MembershipChange.TransferLeader("n" + (target + 1))));
                await("n" + (target + 1) + " leads")
                        .atMost(Duration.ofSeconds(10))
                        .until(() -> cluster.leaderIndex() == target);
                load.awaitProgress();
                get(admin.changeMembers(null, new MembershipChange.TransferLeader(null)));
                await("another member leads")
                        .atMost(Duration.ofSeconds(10))
                        .until(() -> cluster.leaderIndex() >= 0 && cluster.leaderIndex() != target);
                load.awaitProgress();
                load.assertSafe();
            }
            assertThatThrownBy(() -> get(admin.changeMembers(null, cluster.addition(0, false))))
                    .hasCauseInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("n1 is a member already");
            assertThatThrownBy(() -> get(admin.changeMembers(null, new MembershipChange.Promote("n2"))))
                    .hasCauseInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("n2 is a voter already");
            assertThatThrownBy(() -> get(admin.changeMembers(
                            null, new MembershipChange.Add("n7", "127.0.0.1:1", "127.0.0.1:2", false))))
                    .as("a member that never answers is not added")
                    .hasCauseInstanceOf(ConflictException.class)
                    .hasMessageContaining("could not add n7")
                    .hasMessageContaining("the members are as they were");
            assertThat(voters(get(admin.cluster()))).containsExactly("n1", "n2", "n3");
        }
    }

    @Test
    void theLastVoterCannotBeRemoved() throws Exception {
        try (TestCluster cluster = new TestCluster(1);
                ClusterTransport admin = admin(cluster)) {
            cluster.awaitLeader(Duration.ofSeconds(20));
            assertThatThrownBy(() -> get(admin.changeMembers(null, new MembershipChange.Remove("n1"))))
                    .hasCauseInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("last voter");
        }
    }

    /**
     * After the first start the members recorded in the data directory are the truth: a --peers
     * that gives a member another Raft address is refused; one that lists other members is not.
     */
    @Test
    void aConflictingPeerListIsRefusedAndAnOutdatedOneIsNot() throws Exception {
        try (TestCluster cluster = new TestCluster(3)) {
            cluster.awaitLeader(Duration.ofSeconds(20));
            cluster.open(OPTIONS).lock("p/1").acquire(Duration.ofSeconds(10)).release();
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            int restarted = (leader + 1) % 3;
            await().atMost(Duration.ofSeconds(10))
                    .until(() ->
                            java.nio.file.Files.exists(cluster.config(restarted).dataDir()));
            cluster.stop(restarted);
            ServerConfig recorded = cluster.config(restarted);

            Map<String, ServerConfig.Peer> moved = new java.util.LinkedHashMap<>(recorded.peers());
            String other = "n" + ((restarted + 1) % 3 + 1);
            moved.put(
                    other,
                    new ServerConfig.Peer(
                            "127.0.0.1",
                            TestCluster.freePort(),
                            moved.get(other).clientPort()));
            assertThatThrownBy(() -> HoldfastServer.start(withPeers(recorded, moved)))
                    .isInstanceOf(StartupException.class)
                    .hasMessageContaining("--peers gives " + other + " the Raft address")
                    .hasMessageContaining("the recorded members are the truth");

            // Without the recorded members a member the cluster has is simply not listed; it starts.
            Map<String, ServerConfig.Peer> fewer = new java.util.LinkedHashMap<>(recorded.peers());
            fewer.remove(other);
            try (HoldfastServer back = HoldfastServer.start(withPeers(recorded, fewer))) {
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> back.status().appliedIndex()
                                >= cluster.node(leader).status().appliedIndex());
            }
        }
    }

    private static ServerConfig withPeers(ServerConfig c, Map<String, ServerConfig.Peer> peers) {
        return new ServerConfig(
                c.nodeId(),
                peers,
                c.dataDir(),
                c.bindHost(),
                c.clientPort(),
                c.httpPort(),
                c.fsync(),
                c.electionTimeoutMin());
    }

    /** The load's check is not vacuous: with tokens taken from the term, it sees them not rise. */
    @Test
    void theLoadCheckFailsWhenTokensDoNotRise() throws Exception {
        try (TestCluster cluster = new TestCluster(1, java.util.Set.of(io.holdfast.core.PlantedBug.TOKEN_FROM_TERM))) {
            cluster.awaitLeader(Duration.ofSeconds(20));
            try (Load load = new Load(cluster, 2, 2)) {
                load.awaitProgress();
                assertThatThrownBy(load::assertSafe)
                        .isInstanceOf(AssertionError.class)
                        .hasMessageContaining("token");
            }
        }
    }

    // ------------------------------------------------------------------------------------ helpers

    static ClusterTransport admin(TestCluster cluster) {
        return new ClusterTransport(HoldfastProvider.members(cluster.uri()), Duration.ofSeconds(10));
    }

    /**
     * Removes a member, accepting one ambiguous answer. A leader that removes itself stops once it
     * sees the change applied ({@code DivisionWatch}), and may stop before its answer leaves: the
     * transport then sends the same Remove to the next leader, which answers that no member has the
     * id (a CI run, 2026-12-04: n1 logged its removal 0.6 s before it stopped). Then the member must
     * be gone from the cluster's members.
     */
    static void remove(ClusterTransport admin, String id) throws Exception {
        try {
            get(admin.changeMembers(null, new MembershipChange.Remove(id)));
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof InvalidArgumentException)
                    || !e.getCause().getMessage().equals("no member has the id '" + id + "'")) {
                throw e;
            }
            assertThat(get(admin.cluster()).members())
                    .as("the members after a Remove of %s answered as if it were no member", id)
                    .extracting(ClusterInfo.Member::id)
                    .doesNotContain(id);
        }
    }

    static <T> T get(CompletableFuture<T> f) throws Exception {
        return f.get(60, TimeUnit.SECONDS);
    }

    /**
     * Adds node {@code i}, and adds it again after a refusal that an operator would answer by asking
     * again: the leader gave up on it because it did not answer in time (Ratis stages a new member
     * and drops it after three election timeouts with no reply: a node just started on a loaded
     * machine can take that long to answer its first append), or the node asked stopped leading
     * while it made the change (CI rehearsal of 2026-11-30: "Server n3@… is not the leader"). After
     * the second kind the change may have taken effect under the next leader, so a later try that
     * finds the node "a member already" returns the members as they are. Any other failure, or a
     * third refusal, fails the test.
     */
    static ClusterInfo add(ClusterTransport admin, TestCluster cluster, int i, boolean learner) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                return get(admin.changeMembers(null, cluster.addition(i, learner)));
            } catch (java.util.concurrent.ExecutionException e) {
                if (attempt > 1
                        && e.getCause() instanceof io.holdfast.InvalidArgumentException a
                        && a.getMessage().contains("n" + (i + 1) + " is a member already")) {
                    return get(admin.cluster());
                }
                if (attempt == 3
                        || !(e.getCause() instanceof io.holdfast.ConflictException c)
                        || !(c.getMessage().contains("no answer from")
                                || c.getMessage().contains("is not the leader"))) {
                    throw e;
                }
                System.err.println("Adding n" + (i + 1) + " again: " + c.getMessage());
            }
        }
    }

    static List<String> voters(ClusterInfo c) {
        return c.members().stream()
                .filter(m -> !m.role().equals("learner"))
                .map(ClusterInfo.Member::id)
                .sorted()
                .toList();
    }

    static void awaitCaughtUp(TestCluster cluster, int i) {
        await("n" + (i + 1) + " caught up").atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            int leader = cluster.leaderIndex();
            assertThat(leader).isNotNegative();
            assertThat(cluster.node(i).status().appliedIndex())
                    .isGreaterThanOrEqualTo(cluster.node(leader).status().appliedIndex() - 50);
        });
    }

    /** {@code n} waiters, each its own client, queued on {@code name} one after the other. */
    private static List<CompletableFuture<Lease>> queueUp(
            TestCluster cluster, LockClient observer, String name, int n) {
        List<CompletableFuture<Lease>> waiters = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            waiters.add(cluster.open(OPTIONS).lock(name).acquireAsync(Duration.ofMinutes(2)));
            int queued = i + 1;
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> observer.admin()
                                    .describe(name)
                                    .orElseThrow()
                                    .waiters()
                                    .size()
                            == queued);
        }
        return waiters;
    }

    /** Each waiter is granted only after the one before it released, with a higher token. */
    private static void assertServedInOrder(List<CompletableFuture<Lease>> waiters, long after) throws Exception {
        long last = after;
        for (int i = 0; i < waiters.size(); i++) {
            Lease granted = waiters.get(i).get(30, TimeUnit.SECONDS);
            for (int j = i + 1; j < waiters.size(); j++) {
                assertThat(waiters.get(j))
                        .as("waiter " + j + " before waiter " + i)
                        .isNotDone();
            }
            assertThat(granted.fencingToken()).isGreaterThan(last);
            last = granted.fencingToken();
            granted.release();
        }
    }

    /**
     * Clients locking a few names in a loop, each holding briefly: a grant while another client
     * holds the name is a double grant, and each name's tokens, taken in grant order, must rise.
     * Calls that fail while the members change (no leader for a moment) are retried.
     */
    static final class Load implements AutoCloseable {
        private final AtomicReferenceArray<String> holders;
        private final Map<Integer, Long> lastToken = new HashMap<>();
        private final List<String> violations = Collections.synchronizedList(new ArrayList<>());
        private final AtomicLong done = new AtomicLong();
        private final AtomicBoolean stop = new AtomicBoolean();
        private final List<Thread> threads = new ArrayList<>();

        Load(TestCluster cluster, int clients, int names) {
            holders = new AtomicReferenceArray<>(names);
            for (int c = 0; c < clients; c++) {
                LockClient client = cluster.open(OPTIONS);
                String who = "client" + c;
                Thread t = new Thread(() -> run(client, who, names), "load-" + who);
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }
        }

        private void run(LockClient client, String who, int names) {
            int k = 0;
            while (!stop.get()) {
                int name = k++ % names;
                try (Lease lease = client.lock("load/" + name).acquire(Duration.ofSeconds(10))) {
                    String before = holders.getAndSet(name, who);
                    if (before != null) {
                        violations.add("load/" + name + " granted to " + who + " while " + before + " held it");
                    }
                    synchronized (lastToken) {
                        Long previous = lastToken.put(name, lease.fencingToken());
                        if (previous != null && previous >= lease.fencingToken()) {
                            violations.add("load/" + name + " token " + lease.fencingToken() + " after " + previous);
                        }
                    }
                    Thread.sleep(2);
                    holders.compareAndSet(name, who, null);
                    done.incrementAndGet();
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    // unavailable for a moment while the members or the leader change: try again
                }
            }
        }

        /** Until 20 more locks were taken and released. */
        void awaitProgress() {
            long from = done.get();
            await("the load makes progress").atMost(Duration.ofSeconds(30)).until(() -> done.get() >= from + 20);
        }

        void assertSafe() {
            assertThat(violations).isEmpty();
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            for (Thread t : threads) {
                t.join(15_000);
            }
        }
    }
}
