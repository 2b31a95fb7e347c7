package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.PutOptions.Lifetime;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.client.internal.ClusterTransport;
import io.holdfast.core.Vocabulary;
import io.holdfast.model.ChangePosition;
import io.holdfast.model.Command;
import io.holdfast.model.Command.Invocation;
import io.holdfast.model.KeyPage;
import io.holdfast.model.Reply;
import io.holdfast.model.Transaction;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A put on a shared lease (protocol version 10, log type 26, ADR 0006) through a real three-node
 * cluster: refused by name while one member speaks 9 (this build's code {@link Vocabulary#atVersion
 * at version} 9, as in {@link ClusterVersionTest}), nothing written and no replica stopped; taken
 * once every member speaks 10, the key the lease's on every replica, and gone from every replica in
 * the step that closes the lease.
 */
class SharedLeaseVersionTest {
    private static final String LEASE = "shared-lease-session-001";
    private static final String WRITER = "shared-lease-writer-0001";

    @Test
    void aPutOnALeaseWaitsForEveryMemberToSpeakTenThenGoesWithTheLeaseOnEveryReplica() throws Exception {
        try (TestCluster cluster = new TestCluster(3, 0)) {
            cluster.start(0);
            cluster.start(1);
            cluster.start(2, Vocabulary.CURRENT.atVersion(9));
            cluster.awaitLeader(Duration.ofSeconds(20));
            try (ClusterTransport wire = ClusterVersionTest.admin(cluster)) {
                int v = Vocabulary.VERSION;
                ClusterVersionTest.awaitVersions(wire, Map.of("n1", v, "n2", v, "n3", 9));
                ClusterVersionTest.leadBy(cluster, wire, 0);
                for (String s : List.of(LEASE, WRITER)) {
                    assertThat(get(wire.submit(new Command.OpenSession(s, "shared-lease", 60_000, 0))))
                            .isEqualTo(Reply.Ok.INSTANCE);
                }
                long seq = 0;

                Transaction early = put(new Invocation(WRITER, ++seq, 0), "sl/a");
                assertThatThrownBy(() -> get(wire.submit(early)))
                        .cause()
                        .isInstanceOf(UnsupportedFeatureException.class)
                        .hasMessageContaining("needs protocol version 10")
                        .hasMessageContaining("n3 speaks 9");
                assertThat(owners(cluster, 0)).isEmpty();

                cluster.stop(2);
                cluster.start(2);
                ClusterVersionTest.awaitVersions(wire, Map.of("n1", v, "n2", v, "n3", v));
                ClusterVersionTest.leadBy(cluster, wire, 0);
                assertThat(get(wire.submit(put(new Invocation(WRITER, ++seq, 0), "sl/a"))))
                        .isInstanceOf(Reply.Transacted.class);
                assertThat(get(wire.submit(new Command.CloseSession(new Invocation(WRITER, ++seq, 0)))))
                        .isEqualTo(Reply.Ok.INSTANCE);
                ClusterVersionTest.awaitEqualReplicas(cluster);
                for (int i = 0; i < 3; i++) {
                    assertThat(owners(cluster, i)).as("n" + (i + 1)).containsExactly(LEASE);
                }
                assertThat(get(wire.submit(new Command.CloseSession(new Invocation(LEASE, 1, 0)))))
                        .isEqualTo(Reply.Ok.INSTANCE);
            }
            ClusterVersionTest.awaitEqualReplicas(cluster);
            for (int i = 0; i < 3; i++) {
                assertThat(owners(cluster, i))
                        .as("n" + (i + 1) + ": gone with the lease")
                        .isEmpty();
                assertThat(cluster.node(i).halted()).as("n" + (i + 1)).isNotDone();
            }
        }
    }

    private static Transaction put(Invocation inv, String key) {
        return new Transaction(
                inv,
                List.of(),
                List.of(new Transaction.Op.Put(key, -1, new byte[] {1}, Lifetime.ATTACH, 0, LEASE)),
                List.of());
    }

    /** The owners of the keys under {@code sl/} at the node, in key order. */
    private static List<String> owners(TestCluster cluster, int node) {
        KeyPage page = cluster.node(node)
                .parts()
                .machine()
                .read(t -> t.keys("sl/", null, 100, k -> true, ChangePosition.START));
        return page.keys().stream().map(KeyPage.Entry::owner).toList();
    }

    private static <T> T get(CompletableFuture<T> f) throws Exception {
        return f.get(20, TimeUnit.SECONDS);
    }
}
