package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.PutOptions.Lifetime;
import io.holdfast.client.internal.ClusterTransport;
import io.holdfast.core.Vocabulary;
import io.holdfast.model.Command;
import io.holdfast.model.Command.Invocation;
import io.holdfast.model.KeyPage;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A put that keeps its key's lifetime (protocol version 8, log type 23) through the whole server:
 * session B writes a key attached to session A without naming a lifetime. In a cluster that speaks
 * 8 the key stays A's on every replica; while one member still speaks 7 (this build's code {@link
 * Vocabulary#atVersion at version} 7, as in {@link ClusterVersionTest}) the leader logs the write as
 * type 16, which every build reads and which detaches the key, as every build before 8 did, and no
 * replica stops or differs.
 */
class KeepLifetimeVersionTest {
    private static final String OWNER = "keep-owner-session-0001";
    private static final String WRITER = "keep-writer-session-001";

    @Test
    void inAClusterOfVersionEightAPutByAnotherSessionKeepsTheKeyAttached() throws Exception {
        try (TestCluster cluster = new TestCluster(3);
                ClusterTransport wire = ClusterVersionTest.admin(cluster)) {
            cluster.awaitLeader(Duration.ofSeconds(20));
            int v = Vocabulary.VERSION;
            ClusterVersionTest.awaitVersions(wire, Map.of("n1", v, "n2", v, "n3", v));
            RegisterSet kept = attachThenKeep(wire, "keep/k");
            assertThat(RegisterFenceVersionTest.loggedType(cluster, kept)).isEqualTo(23);

            assertThat(get(wire.submit(kept))).isEqualTo(new Reply.Written(2));

            ClusterVersionTest.awaitEqualReplicas(cluster);
            for (int i = 0; i < 3; i++) {
                assertThat(key(cluster, i, "keep/k").orElseThrow().owner())
                        .as("n" + (i + 1))
                        .isEqualTo(OWNER);
            }
            assertThat(get(wire.submit(new Command.CloseSession(new Invocation(OWNER, 3, 0)))))
                    .isEqualTo(Reply.Ok.INSTANCE);
            ClusterVersionTest.awaitEqualReplicas(cluster);
            assertThat(key(cluster, 0, "keep/k"))
                    .as("gone with its owner's session")
                    .isEmpty();
        }
    }

    @Test
    void whileOneMemberSpeaksSevenTheWriteIsLoggedAsTypeSixteenAndDetachesAsBefore() throws Exception {
        try (TestCluster cluster = new TestCluster(3, 0)) {
            cluster.start(0);
            cluster.start(1);
            cluster.start(2, Vocabulary.CURRENT.atVersion(7));
            cluster.awaitLeader(Duration.ofSeconds(20));
            try (ClusterTransport wire = ClusterVersionTest.admin(cluster)) {
                int v = Vocabulary.VERSION;
                ClusterVersionTest.awaitVersions(wire, Map.of("n1", v, "n2", v, "n3", 7));
                ClusterVersionTest.leadBy(cluster, wire, 0); // the newer build leads and chooses
                RegisterSet kept = attachThenKeep(wire, "keep/k");
                assertThat(RegisterFenceVersionTest.loggedType(cluster, kept)).isEqualTo(16);

                assertThat(get(wire.submit(kept))).isEqualTo(new Reply.Written(2));

                ClusterVersionTest.awaitEqualReplicas(cluster);
                assertThat(key(cluster, 0, "keep/k").orElseThrow().owner()).isNull();
            }
            for (int i = 0; i < 3; i++) {
                assertThat(cluster.node(i).halted()).as("n" + (i + 1)).isNotDone();
            }
        }
    }

    /** Opens both sessions, writes {@code key} attached to the owner; answers the writer's keeping put. */
    private static RegisterSet attachThenKeep(ClusterTransport wire, String key) throws Exception {
        for (String id : new String[] {OWNER, WRITER}) {
            assertThat(get(wire.submit(new Command.OpenSession(id, "raw-" + id, 30_000, 0))))
                    .isEqualTo(Reply.Ok.INSTANCE);
        }
        RegisterSet attach =
                new RegisterSet(new Invocation(OWNER, 1, 0), key, 0, new byte[] {1}, null, 0, true, Lifetime.ATTACH, 0);
        assertThat(get(wire.submit(attach))).isEqualTo(new Reply.Written(1));
        return new RegisterSet(new Invocation(WRITER, 1, 0), key, 1, new byte[] {2}, null, 0, true, Lifetime.KEEP, 0);
    }

    private static Optional<KeyPage.Entry> key(TestCluster cluster, int node, String key) {
        return cluster.node(node).parts().machine().read(t -> t.key(key));
    }

    private static <T> T get(java.util.concurrent.CompletableFuture<T> f) throws Exception {
        return f.get(20, TimeUnit.SECONDS);
    }
}
