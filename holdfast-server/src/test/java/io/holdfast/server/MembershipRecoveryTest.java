package io.holdfast.server;

import static io.holdfast.server.MembershipTest.add;
import static io.holdfast.server.MembershipTest.admin;
import static io.holdfast.server.MembershipTest.awaitCaughtUp;
import static io.holdfast.server.MembershipTest.get;
import static io.holdfast.server.MembershipTest.voters;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.client.internal.ClusterTransport;
import io.holdfast.internal.Causes;
import io.holdfast.model.ClusterInfo;
import io.holdfast.model.MembershipChange;
import io.holdfast.server.membership.DivisionWatch;
import io.holdfast.server.membership.PeerViews;
import io.holdfast.server.membership.RejoinGuard;
import io.holdfast.server.membership.StuckLeader;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.util.LifeCycle;
import org.junit.jupiter.api.Test;

/**
 * Changes of the members that Ratis 3.3 left unable to complete, reproduced on real nodes on
 * loopback: a new member whose Raft division closed while the process ran on (a zombie every later
 * add failed on with NOPROGRESS), and a leader whose Ratis state refused every change after a
 * removal a change of leader interrupted. Each test fails without the fix it names.
 */
class MembershipRecoveryTest {
    private static final String SNAPSHOT_EVERY = "holdfast.raft.snapshotEvery";
    private static final ClientOptions OPTIONS =
            ClientOptions.builder().sessionTtl(Duration.ofSeconds(15)).build();

    /**
     * Started as the runbook says (the members and itself in {@code --peers}) and not added at once,
     * a new member used to stand for election after its election timeout; the leader told it to shut
     * down (it is no member), Ratis closed its division, and its add then failed. Started knowing
     * no members ({@link RejoinGuard#check}), it waits. Fails without it at "n4's Raft division
     * stays open".
     */
    @Test
    void aNewMemberWaitsToBeAddedWithoutStandingForElection() throws Exception {
        try (TestCluster cluster = TestCluster.withMembers(4, 3);
                ClusterTransport admin = admin(cluster)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            writeSome(cluster, 5);
            cluster.start(3);
            await("n4's Raft division stays open while it waits to be added")
                    .during(Duration.ofSeconds(3))
                    .atMost(Duration.ofSeconds(5))
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> divisionState(cluster, 3).isRunning()
                            || divisionState(cluster, 3) == LifeCycle.State.STARTING);

            add(admin, cluster, 3, false);
            assertThat(voters(get(admin.cluster()))).containsExactly("n1", "n2", "n3", "n4");
            awaitCaughtUp(cluster, 3);
            await("n4 runs as a member")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> divisionState(cluster, 3) == LifeCycle.State.RUNNING);
            assertThat(cluster.node(3).halted()).isNotDone();
            assertThat(cluster.node(leader).halted()).isNotDone();
        }
    }

    /**
     * The sequence: n4 is being added (the leader, whose log is purged, sends it a
     * snapshot), and the leader crashes as soon as n4 has heard from it. n4 used to time out, stand
     * for election, and have its division closed by Ratis (outside the members its snapshot or log
     * records: {@code NOT_IN_CONF}; or told to shut down by the new leader); every add on the new
     * leader then failed with NOPROGRESS. Now n4 waits, and the add retried on the new leader
     * completes. Fails without the fix at "the add retried on the new leader completes".
     */
    @Test
    void anAddInterruptedByTheLeadersDeathCompletesOnTheNextLeader() throws Exception {
        System.setProperty(SNAPSHOT_EVERY, "50"); // small segments, purged once snapshotted
        try (TestCluster cluster = TestCluster.withMembers(4, 3);
                ClusterTransport admin = admin(cluster)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            writeSome(cluster, 150);
            cluster.node(leader).parts().machine().takeSnapshot();
            writeSome(cluster, 1);
            cluster.node(leader).parts().machine().takeSnapshot();
            cluster.start(3);
            long started = System.nanoTime();
            CompletableFuture<ClusterInfo> first = admin.changeMembers(null, cluster.addition(3, false));
            await("n4 heard from the leader")
                    .atMost(Duration.ofSeconds(10))
                    .pollInterval(Duration.ofMillis(1))
                    .until(() -> cluster.node(3).status().leaderId() != null);
            long killedAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            cluster.crash(leader);
            first.exceptionally(e -> null); // it may fail or, had the change been committed in time, succeed

            int next = cluster.awaitLeader(Duration.ofSeconds(20));
            long elected = System.nanoTime();
            cluster.start(leader);
            AtomicReference<String> lastFailure = new AtomicReference<>("none");
            try {
                await().atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(500))
                        .until(() -> {
                            try {
                                if (!voters(get(admin.cluster())).contains("n4")) {
                                    add(admin, cluster, 3, false);
                                }
                                return true;
                            } catch (InterruptedException e) {
                                throw e; // the deadline passed
                            } catch (Exception e) {
                                lastFailure.set(Causes.rootMessage(e));
                                return false;
                            }
                        });
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                throw new AssertionError(
                        "the add retried on the new leader completes within 60 s of its election (the leader was"
                                + " killed " + killedAfter + " ms after the first add; n4's division is "
                                + divisionState(cluster, 3) + "; last failure: " + lastFailure.get() + ")",
                        e);
            }
            System.out.printf(
                    "interrupted add: leader killed %d ms after the add; added %d ms after the new leader's election%n",
                    killedAfter, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - elected));
            assertThat(voters(get(admin.cluster()))).containsExactly("n1", "n2", "n3", "n4");
            awaitCaughtUp(cluster, 3);
            assertThat(divisionState(cluster, 3)).isEqualTo(LifeCycle.State.RUNNING);
            assertThat(cluster.node(3).halted()).isNotDone();
            assertThat(next).isNotEqualTo(leader);
        } finally {
            System.clearProperty(SNAPSHOT_EVERY);
        }
    }

    /**
     * A node whose division Ratis closes stops, with one line saying why, instead of serving its
     * ports as a zombie: here the leader that removed itself, which stops as removed (one INFO
     * line; {@code holdfast server} exits 0), not halted (an ERROR and exit 71, as before issue 51).
     * Fails without {@link DivisionWatch} at "the node stops".
     */
    @Test
    void aNodeWhoseDivisionRatisClosedStopsWithOneLine() throws Exception {
        try (TestCluster cluster = new TestCluster(3);
                ClusterTransport admin = admin(cluster)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            writeSome(cluster, 3);
            String id = "n" + (leader + 1);
            get(admin.changeMembers(null, new MembershipChange.Remove(id)));
            String reason = cluster.node(leader).removed().get(10, TimeUnit.SECONDS);
            assertThat(reason)
                    .as("the node stops")
                    .startsWith("Node " + id + " was removed from the cluster (the members are now ")
                    .contains("empty its data directory, start it and add it with holdfast members add")
                    .doesNotContain("\n");
            assertThat(cluster.node(leader).halted()).isNotDone();
            assertThat(divisionState(cluster, leader).isClosingOrClosed()).isTrue();
            for (int i = 0; i < 3; i++) {
                if (i != leader) {
                    assertThat(cluster.node(i).halted()).isNotDone();
                }
            }
        }
    }

    /**
     * The leader that took over from one that lost its leadership in the middle of a removal (the
     * joint configuration of four in its log, not committed: the removed member stopped, another cut
     * off) kept replicating to the removed member; adding that id back failed inside Ratis ({@code
     * Found duplicated element}) and every change after it on that leader failed. Now the change
     * that fails so hands the leadership over and is made once more on the new leader. Fails without
     * {@link StuckLeader} at "the add completes".
     */
    @Test
    void aLeaderStuckAfterAnInterruptedRemovalHandsOverAndTheChangeIsMade() throws Exception {
        try (TestCluster cluster = new TestCluster(4, Duration.ofSeconds(2));
                ClusterTransport admin = admin(cluster)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(30));
            writeSome(cluster, 5);
            int removed = (leader + 1) % 4;
            int cutOff = (leader + 2) % 4;
            int witness = (leader + 3) % 4;
            String removedId = "n" + (removed + 1);
            cluster.stop(removed);
            cluster.kill(cutOff);
            // Two of four answer: the joint configuration is logged, reaches the witness, and cannot
            // commit; the leader then loses its leadership (no majority heard).
            CompletableFuture<ClusterInfo> removal = admin.changeMembers(null, new MembershipChange.Remove(removedId));
            await("the witness has the joint configuration")
                    .atMost(Duration.ofSeconds(5))
                    .pollInterval(Duration.ofMillis(10))
                    .until(() -> !cluster.node(witness)
                            .parts()
                            .division()
                            .getRaftConf()
                            .getPreviousPeers(RaftPeerRole.FOLLOWER)
                            .isEmpty());
            await("the old leader steps down")
                    .atMost(Duration.ofSeconds(20))
                    .until(() ->
                            !cluster.node(leader).parts().division().getInfo().isLeader());
            removal.exceptionally(e -> null); // it cannot complete on that leader
            cluster.start(cutOff);
            int stuck = cluster.awaitLeader(Duration.ofSeconds(30));
            await("the new leader committed its first entry")
                    .atMost(Duration.ofSeconds(20))
                    .ignoreExceptions()
                    .until(() -> voters(get(admin.cluster())).size() == 3);
            assertThat(StuckLeader.strays(cluster.node(stuck).parts().division()))
                    .as("Ratis's leader state replicates to the removed member")
                    .containsExactly(removedId);

            cluster.wipe(removed);
            cluster.start(removed);
            ClusterInfo after = add(admin, cluster, removed, false);
            assertThat(after.members())
                    .as("the add completes")
                    .extracting(ClusterInfo.Member::id)
                    .contains(removedId);
            int now = cluster.awaitLeader(Duration.ofSeconds(20));
            assertThat(now).as("the leadership moved").isNotEqualTo(stuck);
            assertThat(StuckLeader.strays(cluster.node(now).parts().division())).isEmpty();
            awaitCaughtUp(cluster, removed);
            // The next change goes through at once.
            get(admin.changeMembers(null, new MembershipChange.TransferLeader(null)));
        }
    }

    /**
     * Ratis 3.3's leader judges a staged new member's progress only when its event queue stays
     * empty for an RPC timeout, or when that member's log advances. Under steady writes the queue
     * never empties: a staged member that is dead (here: it reported its version, then died), or
     * whose log appender Ratis lost to a purged segment (CI's membership scenario, 2026-12-05), was
     * staged for as long as the leader led; the addition timed out after 25 s ("it may still take
     * effect") and every later change was refused "reconfiguration is already in progress". Now
     * {@link io.holdfast.server.membership.StagingWatch} ends such a staging: the addition is
     * refused within seconds, naming the address that did not answer, and the next one goes
     * through. Fails without it at "refused within 15 s" (26.5 s, "it may still take effect").
     */
    @Test
    void anAdditionWhoseNewMemberDiesUnderSteadyWritesIsRefusedInSeconds() throws Exception {
        try (TestCluster cluster = TestCluster.withMembers(4, 3);
                ClusterTransport admin = admin(cluster);
                SteadyWrites writes = new SteadyWrites(cluster)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            writes.awaitSome();
            cluster.start(3);
            // n4 reports its version (so the leader admits it) and dies before it is staged.
            await("n4 reported its version")
                    .atMost(Duration.ofSeconds(20))
                    .until(() -> cluster.node(leader)
                                    .parts()
                                    .machine()
                                    .read(t -> t.memberVersions().get("n4"))
                            != null);
            cluster.crash(3);
            long sent = System.nanoTime();
            CompletableFuture<ClusterInfo> first = admin.changeMembers(null, cluster.addition(3, false));
            Throwable refused = null;
            try {
                get(first);
            } catch (java.util.concurrent.ExecutionException e) {
                refused = e.getCause();
            }
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
            assertThat(refused).as("adding a node that died while staged fails").isNotNull();
            assertThat(Causes.rootMessage(refused))
                    .as("refused within 15 s (took %d ms), naming the address that did not answer", tookMillis)
                    .contains("no answer from " + cluster.addition(3, false).raftAddress())
                    .contains("the members are as they were");
            assertThat(tookMillis).as("refused within 15 s").isLessThan(15_000);
            assertThat(voters(get(admin.cluster()))).containsExactly("n1", "n2", "n3");

            cluster.wipe(3);
            cluster.start(3);
            writes.assertGoesOn(
                    () -> assertThat(voters(add(admin, cluster, 3, false))).containsExactly("n1", "n2", "n3", "n4"));
            awaitCaughtUp(cluster, 3);
            assertThat(cluster.node(leader).halted()).isNotDone();
        }
    }

    /**
     * A staging that no watch ends: one a stuck leader's retry starts through Ratis's admin call on
     * the next leader ({@link StuckLeader}), here started the same way for n4, which never runs.
     * Under steady writes every change after it was refused "reconfiguration is already in
     * progress" for as long as that leader led. Now such a refusal, with no staged member
     * answering, steps the leader down and the change is made on the next leader. Fails without
     * {@link StuckLeader#isAbandonedStaging} at "the add of n5 completes".
     */
    @Test
    void aStagingNobodyAnswersUnderSteadyWritesGivesWayToTheNextChange() throws Exception {
        try (TestCluster cluster = TestCluster.withMembers(5, 3);
                ClusterTransport admin = admin(cluster);
                SteadyWrites writes = new SteadyWrites(cluster)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            writes.awaitSome();
            MembershipChange.Add n4 = cluster.addition(3, false);
            var division = cluster.node(leader).parts().division();
            var request = new org.apache.ratis.protocol.SetConfigurationRequest(
                    org.apache.ratis.protocol.ClientId.randomId(),
                    division.getId(),
                    division.getGroup().getGroupId(),
                    1,
                    org.apache.ratis.protocol.SetConfigurationRequest.Arguments.newBuilder()
                            .setMode(org.apache.ratis.protocol.SetConfigurationRequest.Mode.ADD)
                            .setServersInNewConf(List.of(org.apache.ratis.protocol.RaftPeer.newBuilder()
                                    .setId(n4.id())
                                    .setAddress(n4.raftAddress())
                                    .setClientAddress(n4.clientAddress())
                                    .build()))
                            .build());
            CompletableFuture<?> unwatched = division.getRaftServer().setConfigurationAsync(request);
            unwatched.exceptionally(e -> null);
            await("the leader stages n4")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> StuckLeader.strays(division).contains("n4"));
            // Ratis gives a staged member a staging timeout (2.4 s here) before it counts it silent.
            await("n4 silent for 3 s")
                    .atMost(Duration.ofSeconds(20))
                    .until(() -> division.getInfo().getRoleInfoProto().getLeaderInfo().getFollowerInfoList().stream()
                            .anyMatch(f -> f.getId().getId().toStringUtf8().equals("n4")
                                    && f.getLastRpcElapsedTimeMs() > 3000));
            cluster.start(4);
            writes.assertGoesOn(() -> {
                try {
                    assertThat(voters(add(admin, cluster, 4, false))).containsExactly("n1", "n2", "n3", "n5");
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new AssertionError("the add of n5 completes: " + Causes.rootMessage(e), e);
                }
            });
            awaitCaughtUp(cluster, 4);
        }
    }

    /** Which answers make an empty node a new member that waits: only those where nobody counts it. */
    @Test
    void aNewMemberIsOneThatNoAnsweringPeerCounts() {
        var runsWithout = new PeerViews.PeerView("n1", java.util.Set.of("n1", "n2", "n3"), 30, -1);
        var counts = new PeerViews.PeerView("n2", java.util.Set.of("n1", "n2", "n3", "n4"), 30, -1);
        var silentOnMembers = new PeerViews.PeerView("n3", null, 30, -1);
        assertThat(RejoinGuard.awaitsAddition("n4", List.of(runsWithout, silentOnMembers)))
                .contains(runsWithout);
        assertThat(RejoinGuard.awaitsAddition("n4", List.of(runsWithout, counts)))
                .as("a cluster being formed, or a change under way that counts it")
                .isEmpty();
        assertThat(RejoinGuard.awaitsAddition("n4", List.of(silentOnMembers))).isEmpty();
        assertThat(RejoinGuard.awaitsAddition("n4", List.of()))
                .as("nobody answered")
                .isEmpty();
    }

    // ------------------------------------------------------------------------------------ helpers

    private static void awaitHeardFromLeader(TestCluster cluster, int i) {
        await("n" + (i + 1) + " heard from the leader")
                .atMost(Duration.ofSeconds(20))
                .pollInterval(Duration.ofMillis(5))
                .until(() -> cluster.node(i).status().leaderId() != null);
    }

    /** One client acquiring and releasing a lock in a loop, so that the leader's log never rests. */
    private static final class SteadyWrites implements AutoCloseable {
        private final AtomicBoolean writing = new AtomicBoolean(true);
        private final AtomicLong done = new AtomicLong();
        private final Thread writer;

        SteadyWrites(TestCluster cluster) {
            writer = new Thread(() -> {
                LockClient client = null;
                while (writing.get()) {
                    try {
                        if (client == null) {
                            client = cluster.open(OPTIONS);
                        }
                        client.lock("steady").acquire(Duration.ofSeconds(10)).release();
                        done.incrementAndGet();
                    } catch (InterruptedException e) {
                        return;
                    } catch (RuntimeException e) {
                        // no leader yet, or a change of leader: go on writing
                    }
                }
            });
            writer.start();
        }

        void awaitSome() {
            await("steady writes").atMost(Duration.ofSeconds(20)).until(() -> done.get() > 20);
        }

        /** Runs {@code step}, and checks that writes were made while it ran. */
        void assertGoesOn(ThrowingStep step) throws Exception {
            long before = done.get();
            step.run();
            assertThat(done.get()).as("the writes went on").isGreaterThan(before);
        }

        @Override
        public void close() throws InterruptedException {
            writing.set(false);
            writer.join(20_000);
        }
    }

    private interface ThrowingStep {
        void run() throws Exception;
    }

    private static void writeSome(TestCluster cluster, int n) throws InterruptedException {
        LockClient client = cluster.open(OPTIONS);
        for (int i = 0; i < n; i++) {
            client.lock("recovery/" + i).acquire(Duration.ofSeconds(10)).release();
        }
    }

    private static LifeCycle.State divisionState(TestCluster cluster, int i) throws Exception {
        return cluster.node(i).parts().division().getInfo().getLifeCycleState();
    }
}
