package io.holdfast.server;

import static io.holdfast.server.MembershipTest.admin;
import static io.holdfast.server.MembershipTest.awaitCaughtUp;
import static io.holdfast.server.MembershipTest.get;
import static io.holdfast.server.MembershipTest.voters;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.client.internal.ClusterTransport;
import io.holdfast.model.ClusterInfo;
import java.lang.reflect.Field;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.util.CodeInjectionForTesting;
import org.apache.ratis.util.LifeCycle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The addition of a voter interrupted in its <em>joint window</em>: the leader has logged the joint
 * configuration (old members, and old members plus the new one) and sent it to the old followers,
 * and dies before the new member has received any append that counts it. This is the soak's
 * violation of 2026-11-27 (round 45 of master seed 20261141: no leader for 70 s after the leader
 * was killed during the addition of n5), made to happen on purpose instead of by chance.
 *
 * <p>Why nobody can lead: the survivors' logs hold the joint configuration, so a candidate needs a
 * majority of the new members too (three of four), and the dead leader is one of them, so it needs
 * the new member's vote. Ratis 3.3 starts a member that is not in its own configuration in state
 * {@code STARTING}, moves it to {@code RUNNING} only on an append that does not say
 * "initializing" (the first one a leader sends once the joint configuration counts it), and refuses
 * every vote request while {@code STARTING} ({@code ServerNotReadyException}). With the leader
 * dead, no such append can come: the survivors ask, the new member refuses, and the cluster stays
 * without a leader until the dead leader comes back.
 *
 * <p>How the test makes the window: a Ratis code injection on the new member fails every append
 * that does not say "initializing", so staging completes (its appends say "initializing") and the
 * joint configuration reaches the old followers but never the new member; the leader is then
 * crashed.
 */
public class JointWindowTest {
    private static final ClientOptions OPTIONS =
            ClientOptions.builder().sessionTtl(Duration.ofSeconds(15)).build();

    @AfterEach
    void removeInjection() throws Exception {
        CodeInjectionForTesting.remove(appendEntriesPoint());
    }

    @Test
    void anAdditionInterruptedInItsJointWindowLeavesALeaderAndCompletes() throws Exception {
        try (TestCluster cluster = TestCluster.withMembers(4, 3);
                ClusterTransport admin = admin(cluster)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            LockClient client = cluster.open(OPTIONS);
            for (int i = 0; i < 5; i++) {
                client.lock("joint/" + i).acquire(Duration.ofSeconds(10)).release();
            }
            RaftPeerId newMember = RaftPeerId.valueOf("n4");
            AtomicInteger heldBack = new AtomicInteger();
            CodeInjectionForTesting.put(appendEntriesPoint(), (local, remote, args) -> {
                if (newMember.equals(local)
                        && args.length > 1
                        && args[1] instanceof AppendEntriesRequestProto r
                        && !r.getInitializing()) {
                    heldBack.incrementAndGet();
                    throw new IllegalStateException("held back by JointWindowTest: the joint window");
                }
                return false;
            });
            cluster.start(3);
            CompletableFuture<ClusterInfo> add = admin.changeMembers(null, cluster.addition(3, false));
            int follower = (leader + 1) % 3;
            await("a follower holds the joint configuration")
                    .atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(5))
                    .until(
                            () -> cluster
                                    .node(follower)
                                    .parts()
                                    .division()
                                    .getRaftConf()
                                    .getCurrentPeers(RaftPeerRole.FOLLOWER)
                                    .stream()
                                    .anyMatch(p -> p.getId().equals(newMember)));
            // Checked before the crash: stopping the dead node's process may take seconds, and n4's
            // rescue (two election timeouts without a leader) may run before crash() returns.
            assertThat(cluster.node(3).parts().division().getInfo().getLifeCycleState())
                    .as("n4 never had an append that counts it (the window)")
                    .isEqualTo(LifeCycle.State.STARTING);
            cluster.crash(leader);
            add.exceptionally(e -> null);
            // Nothing is held back any more; but with the leader dead, no append can reach n4.
            CodeInjectionForTesting.remove(appendEntriesPoint());

            long crashed = System.nanoTime();
            int next = cluster.awaitLeader(Duration.ofSeconds(30));
            long electedAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - crashed);
            assertThat(next).isNotEqualTo(leader);
            assertThat(cluster.node(3).parts().division().getInfo().getLifeCycleState())
                    .as("n4 runs, started again as a member")
                    .isEqualTo(LifeCycle.State.RUNNING);

            // The new leader replicates to n4 as a member: the addition completes.
            await("the addition completes on the new leader")
                    .atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> {
                        try {
                            if (!voters(get(admin.cluster())).contains("n4")) {
                                get(admin.changeMembers(null, cluster.addition(3, false)));
                            }
                            return voters(get(admin.cluster())).equals(List.of("n1", "n2", "n3", "n4"));
                        } catch (Exception e) {
                            return false;
                        }
                    });
            awaitCaughtUp(cluster, 3);
            LockClient after = cluster.open(OPTIONS);
            after.lock("joint/after").acquire(Duration.ofSeconds(10)).release();
            System.out.printf(
                    "joint window: a leader %d ms after the crash (%d appends held back)%n",
                    electedAfter, heldBack.get());
        }
    }

    /** Ratis's name for the injection point at the start of a follower's append ({@code RaftServerImpl.APPEND_ENTRIES}). */
    private static String appendEntriesPoint() throws ReflectiveOperationException {
        Field f = Class.forName("org.apache.ratis.server.impl.RaftServerImpl").getDeclaredField("APPEND_ENTRIES");
        f.setAccessible(true);
        return (String) f.get(null);
    }
}
