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
import io.holdfast.model.KeyDeletePrefix;
import io.holdfast.model.KeyPage;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A page of a prefix delete (protocol version 9, log type 25) through a real three-node cluster:
 * refused by name while one member speaks 8 (this build's code {@link Vocabulary#atVersion at
 * version} 8, as in {@link ClusterVersionTest}), nothing deleted and no replica stopped; taken
 * once every member speaks 9, applied alike by every replica.
 */
class PrefixDeleteVersionTest {
    private static final String SESSION = "prefix-delete-session-01";

    @Test
    void aPrefixDeleteWaitsForEveryMemberToSpeakNineThenDeletesOnEveryReplica() throws Exception {
        try (TestCluster cluster = new TestCluster(3, 0)) {
            cluster.start(0);
            cluster.start(1);
            cluster.start(2, Vocabulary.CURRENT.atVersion(8));
            cluster.awaitLeader(Duration.ofSeconds(20));
            try (ClusterTransport wire = ClusterVersionTest.admin(cluster)) {
                int v = Vocabulary.VERSION;
                ClusterVersionTest.awaitVersions(wire, Map.of("n1", v, "n2", v, "n3", 8));
                ClusterVersionTest.leadBy(cluster, wire, 0);
                assertThat(get(wire.submit(new Command.OpenSession(SESSION, "prefix-delete", 60_000, 0))))
                        .isEqualTo(Reply.Ok.INSTANCE);
                long seq = 0;
                for (String key : List.of("pd/a", "pd/b", "pd/c", "pe/a")) {
                    RegisterSet put = new RegisterSet(
                            new Invocation(SESSION, ++seq, 0), key, 0, new byte[] {1}, null, 0, true, Lifetime.KEEP, 0);
                    assertThat(get(wire.submit(put))).isEqualTo(new Reply.Written(1));
                }

                KeyDeletePrefix early = new KeyDeletePrefix(new Invocation(SESSION, ++seq, 0), "pd/", 2);
                assertThatThrownBy(() -> get(wire.submit(early)))
                        .cause()
                        .isInstanceOf(UnsupportedFeatureException.class)
                        .hasMessageContaining("cannot take this KeyDeletePrefix yet")
                        .hasMessageContaining("needs protocol version 9")
                        .hasMessageContaining("n3 speaks 8");
                assertThat(keys(cluster, 0, "pd/")).containsExactly("pd/a", "pd/b", "pd/c");

                cluster.stop(2);
                cluster.start(2);
                ClusterVersionTest.awaitVersions(wire, Map.of("n1", v, "n2", v, "n3", v));
                ClusterVersionTest.leadBy(cluster, wire, 0);
                assertThat(get(wire.submit(new KeyDeletePrefix(new Invocation(SESSION, ++seq, 0), "pd/", 2))))
                        .isEqualTo(new Reply.Ok(2));
                assertThat(get(wire.submit(new KeyDeletePrefix(new Invocation(SESSION, ++seq, 0), "pd/", 2))))
                        .isEqualTo(new Reply.Ok(1));
            }
            ClusterVersionTest.awaitEqualReplicas(cluster);
            for (int i = 0; i < 3; i++) {
                assertThat(keys(cluster, i, "p")).as("n" + (i + 1)).containsExactly("pe/a");
                assertThat(cluster.node(i).halted()).as("n" + (i + 1)).isNotDone();
            }
        }
    }

    private static List<String> keys(TestCluster cluster, int node, String prefix) {
        KeyPage page = cluster.node(node)
                .parts()
                .machine()
                .read(t -> t.keys(prefix, null, 100, k -> true, ChangePosition.START));
        return page.keys().stream().map(KeyPage.Entry::key).toList();
    }

    private static <T> T get(CompletableFuture<T> f) throws Exception {
        return f.get(20, TimeUnit.SECONDS);
    }
}
