package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.client.HoldfastProvider;
import io.holdfast.client.internal.ClusterTransport;
import io.holdfast.core.CommandCodec;
import io.holdfast.core.Vocabulary;
import io.holdfast.model.ClusterInfo;
import io.holdfast.model.Command;
import io.holdfast.model.Command.Invocation;
import io.holdfast.model.CounterAdd;
import io.holdfast.model.KeyDelete;
import io.holdfast.model.MembershipChange;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import io.holdfast.model.Transaction;
import io.holdfast.server.raft.EntryCodec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * An upgrade node by node, with two builds in one JVM: the newer one adds a command (protocol
 * version 2), the older one cannot apply it. The newer command is refused, with a typed error that
 * names the members holding the cluster back, until every member has reported version 2 through
 * the log; then it is logged and every replica applies it. No replica stops on the way, and the
 * locks stay safe while the nodes restart one after the other.
 *
 * <p>The two builds are this build's code with two {@link Vocabulary vocabularies}: in the newer,
 * {@link Command.Revoke} plays the command the newer build adds; the older is the same table at
 * version 1, which does not apply it (a replica of it that meets one stops, as {@link
 * UnknownCommandTest} shows). With the gate removed, the revoke below is logged while two older
 * members remain, and they stop: this test fails.
 */
class ClusterVersionTest {
    private static final ClientOptions OPTIONS =
            ClientOptions.builder().sessionTtl(Duration.ofSeconds(15)).build();
    private static final int REVOKE = CommandCodec.type(CommandCodec.encode(0, new Command.Revoke("x")));

    /** The newer build: Revoke is its new command, of protocol version 2. */
    static final Vocabulary NEWER = newer();

    /** The older build: the same commands, at protocol version 1, so without the new one. */
    static final Vocabulary OLDER = NEWER.atVersion(1);

    private static Vocabulary newer() {
        Map<Integer, Integer> types = new TreeMap<>();
        for (int type = 1; type < 256; type++) {
            if (Vocabulary.CURRENT.knows(type)) {
                types.put(type, type == REVOKE ? 2 : 1);
            }
        }
        return new Vocabulary(2, types);
    }

    @Test
    void everyMemberReportsItsVersionThroughTheLog() throws Exception {
        try (TestCluster cluster = new TestCluster(3);
                ClusterTransport admin = admin(cluster)) {
            cluster.awaitLeader(Duration.ofSeconds(20));
            int v = Vocabulary.VERSION;
            ClusterInfo info = awaitVersions(admin, Map.of("n1", v, "n2", v, "n3", v));
            assertThat(info.clusterVersion()).isEqualTo(Vocabulary.VERSION);
            // Every replica holds the reports: they are in the log, not in the leader's memory.
            for (int i = 0; i < 3; i++) {
                int n = i;
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> cluster.node(n)
                                        .parts()
                                        .machine()
                                        .read(t -> t.memberVersions().size())
                                == 3);
            }
        }
    }

    @Test
    void aNewCommandWaitsForEveryMemberToBeUpgradedNodeByNode() throws Exception {
        try (TestCluster cluster = new TestCluster(3, 0)) {
            for (int i = 0; i < 3; i++) {
                cluster.start(i, OLDER);
            }
            cluster.awaitLeader(Duration.ofSeconds(20));
            try (ClusterTransport admin = admin(cluster);
                    MembershipTest.Load load = new MembershipTest.Load(cluster, 2, 3)) {
                awaitVersions(admin, Map.of("n1", 1, "n2", 1, "n3", 1));
                LockClient client = cluster.open(OPTIONS);
                Lease held = client.lock("v/held").acquire(Duration.ofSeconds(10));
                load.awaitProgress();

                // n1 is upgraded first and made to lead: it knows the new command, the others do not.
                cluster.stop(0);
                cluster.start(0, NEWER);
                awaitVersions(admin, Map.of("n1", 2, "n2", 1, "n3", 1));
                leadBy(cluster, admin, 0);
                assertThatThrownBy(() -> client.admin().revoke("v/held"))
                        .isInstanceOf(UnsupportedFeatureException.class)
                        .hasMessageContaining("needs protocol version 2")
                        .hasMessageContaining("n2 speaks 1")
                        .hasMessageContaining("n3 speaks 1");
                load.awaitProgress();

                // Then the two others, one after the other; the cluster serves throughout.
                for (int i = 1; i < 3; i++) {
                    cluster.stop(i);
                    cluster.start(i, NEWER);
                    cluster.awaitLeader(Duration.ofSeconds(20));
                    load.awaitProgress();
                }
                ClusterInfo upgraded = awaitVersions(admin, Map.of("n1", 2, "n2", 2, "n3", 2));
                assertThat(upgraded.clusterVersion()).isEqualTo(2);
                leadBy(cluster, admin, 0);
                assertThat(client.admin().revoke("v/held")).isEqualTo(1);
                await("the holder is told").atMost(Duration.ofSeconds(10)).until(() -> !held.isValid());
                load.awaitProgress();
                load.assertSafe();
            }
            // Every replica applied the new command, and none stopped.
            awaitEqualReplicas(cluster);
            for (int i = 0; i < 3; i++) {
                assertThat(cluster.node(i).halted()).as("n" + (i + 1)).isNotDone();
            }
        }
    }

    @Test
    void aClientOfTheRaftPortCannotLogANewCommandBeforeTheClusterSpeaksIt() throws Exception {
        try (TestCluster cluster = new TestCluster(3, 0)) {
            cluster.start(0, NEWER);
            cluster.start(1, OLDER);
            cluster.start(2, OLDER);
            cluster.awaitLeader(Duration.ofSeconds(20));
            try (ClusterTransport admin = admin(cluster)) {
                awaitVersions(admin, Map.of("n1", 2, "n2", 1, "n3", 1));
                leadBy(cluster, admin, 0);
                byte[] entry =
                        EntryCodec.encodeCommands(List.of(CommandCodec.encode(0, new Command.Revoke("v/anything"))));
                assertThat(UnknownCommandTest.send(cluster, entry))
                        .contains("not logged")
                        .contains("needs protocol version 2");
                LockClient client = cluster.open(OPTIONS);
                client.lock("v/after").acquire(Duration.ofSeconds(10)).release();
            }
            for (int i = 0; i < 3; i++) {
                assertThat(cluster.node(i).halted()).as("n" + (i + 1)).isNotDone();
            }
        }
    }

    /**
     * The key commands of protocol version 6 (a leased write, a delete, a counter, a transaction)
     * are refused by name while one member speaks 5, and taken once it speaks 6; no replica stops.
     */
    @Test
    void theKeyCommandsOfVersionSixWaitForEveryMemberToSpeakIt() throws Exception {
        Vocabulary five = Vocabulary.CURRENT.atVersion(5);
        String session = "version-six-keys-session-1";
        try (TestCluster cluster = new TestCluster(3, 0)) {
            cluster.start(0);
            cluster.start(1);
            cluster.start(2, five);
            cluster.awaitLeader(Duration.ofSeconds(20));
            try (ClusterTransport admin = admin(cluster)) {
                int v = Vocabulary.VERSION;
                awaitVersions(admin, Map.of("n1", v, "n2", v, "n3", 5));
                leadBy(cluster, admin, 0);
                assertThat(admin.submit(new Command.OpenSession(session, "v6", 60_000, 0))
                                .get(10, TimeUnit.SECONDS))
                        .isEqualTo(Reply.Ok.INSTANCE);
                long[] seq = {0};
                java.util.function.Supplier<List<Command>> keyCommands = () -> List.of(
                        new RegisterSet(
                                new Invocation(session, ++seq[0], 0),
                                "v6/k",
                                0,
                                new byte[] {1},
                                null,
                                0,
                                true,
                                true,
                                0),
                        new KeyDelete(new Invocation(session, ++seq[0], 0), "v6/k", -1),
                        new CounterAdd(new Invocation(session, ++seq[0], 0), "v6/n", 1),
                        new Transaction(
                                new Invocation(session, ++seq[0], 0),
                                List.of(),
                                List.of(new Transaction.Op.Get("v6/n")),
                                List.of()));
                for (Command c : keyCommands.get()) {
                    assertThatThrownBy(() -> admin.submit(c).get(10, TimeUnit.SECONDS))
                            .cause()
                            .isInstanceOf(UnsupportedFeatureException.class)
                            .hasMessageContaining(
                                    "cannot take this " + c.getClass().getSimpleName() + " yet")
                            .hasMessageContaining("needs protocol version 6")
                            .hasMessageContaining("n3 speaks 5");
                }

                cluster.stop(2);
                cluster.start(2);
                awaitVersions(admin, Map.of("n1", v, "n2", v, "n3", v));
                leadBy(cluster, admin, 0);
                List<Reply> replies = new java.util.ArrayList<>();
                for (Command c : keyCommands.get()) {
                    replies.add(admin.submit(c).get(10, TimeUnit.SECONDS));
                }
                assertThat(replies.get(0)).isEqualTo(new Reply.Written(1));
                assertThat(replies.get(1)).isEqualTo(new Reply.Ok(1));
                assertThat(replies.get(2)).isEqualTo(new Reply.Counted(1, 1));
                assertThat(replies.get(3))
                        .isInstanceOfSatisfying(
                                Reply.Transacted.class,
                                t -> assertThat(t.succeeded()).isTrue());
            }
            awaitEqualReplicas(cluster);
            for (int i = 0; i < 3; i++) {
                assertThat(cluster.node(i).halted()).as("n" + (i + 1)).isNotDone();
            }
        }
    }

    /** Waits until the leader's view shows exactly these reported versions; returns that view. */
    static ClusterInfo awaitVersions(ClusterTransport admin, Map<String, Integer> expected) {
        ClusterInfo[] last = new ClusterInfo[1];
        await("versions " + expected)
                .atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(100))
                .ignoreExceptions()
                .until(() -> {
                    ClusterInfo info = admin.cluster().get(10, TimeUnit.SECONDS);
                    Map<String, Integer> seen = new TreeMap<>();
                    info.members().forEach(m -> seen.put(m.id(), m.version()));
                    last[0] = info;
                    return seen.equals(new TreeMap<>(expected));
                });
        return last[0];
    }

    /** Waits until the three replicas hold the same table. */
    static void awaitEqualReplicas(TestCluster cluster) {
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            assertThat(cluster.node(1).parts().machine().digest())
                    .isEqualTo(cluster.node(0).parts().machine().digest());
            assertThat(cluster.node(2).parts().machine().digest())
                    .isEqualTo(cluster.node(0).parts().machine().digest());
        });
    }

    static void leadBy(TestCluster cluster, ClusterTransport admin, int node) {
        await("n" + (node + 1) + " leads")
                .atMost(Duration.ofSeconds(30))
                .ignoreExceptions()
                .until(() -> {
                    if (cluster.leaderIndex() != node) {
                        admin.changeMembers(null, new MembershipChange.TransferLeader("n" + (node + 1)))
                                .get(15, TimeUnit.SECONDS);
                    }
                    return cluster.leaderIndex() == node;
                });
    }

    static ClusterTransport admin(TestCluster cluster) {
        return new ClusterTransport(HoldfastProvider.members(cluster.uri()), Duration.ofSeconds(10));
    }
}
