package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ErrorCode;
import io.holdfast.client.internal.ClusterTransport;
import io.holdfast.core.CommandCodec;
import io.holdfast.core.Vocabulary;
import io.holdfast.model.Command;
import io.holdfast.model.Command.Invocation;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A register write fenced by another session's grant, through the whole server: session B copies
 * session A's fence (the lock's name and A's token) and writes with it over the wire, below the
 * client's own check. In a cluster that speaks protocol version 4 the leader logs the write as
 * command type 16 and every replica refuses it; in a cluster where one member still speaks 3 (the
 * other build is this one's code {@link Vocabulary#atVersion at version} 3, as in {@link
 * ClusterVersionTest}) it is logged as type 10 and accepted, as every build before 4 did, and no
 * replica stops or differs.
 */
class RegisterFenceVersionTest {
    private static final Vocabulary THREE = Vocabulary.CURRENT.atVersion(3);
    private static final byte[] VALUE = {4, 2};
    static final String HOLDER = "fence-holder-session-01";
    static final String FORGER = "fence-forger-session-01";

    @Test
    void inAClusterOfVersionFourAFenceOfAnotherSessionIsRefused() throws Exception {
        try (TestCluster cluster = new TestCluster(3);
                ClusterTransport wire = ClusterVersionTest.admin(cluster)) {
            cluster.awaitLeader(Duration.ofSeconds(20));
            int v = Vocabulary.VERSION;
            ClusterVersionTest.awaitVersions(wire, Map.of("n1", v, "n2", v, "n3", v));
            long token = holdLock(wire);
            RegisterSet forged = write(FORGER, "fence/forged", token);
            assertThat(loggedType(cluster, forged)).isEqualTo(16);

            Reply refused = get(wire.submit(forged));

            assertThat(refused).isInstanceOf(Reply.Failed.class);
            assertThat(((Reply.Failed) refused).code()).isEqualTo(ErrorCode.CONFLICT);
            assertThat(((Reply.Failed) refused).message())
                    .isEqualTo("fencing token " + token
                            + " of fence/l belongs to another session, not to the writing one");
            assertThat(get(wire.readRegister("fence/forged"))).isEmpty();
            assertThat(get(wire.submit(write(HOLDER, "fence/own", token)))).isEqualTo(new Reply.Written(1));
            ClusterVersionTest.awaitEqualReplicas(cluster);
        }
    }

    @Test
    void whileOneMemberSpeaksThreeTheWriteIsLoggedAsTypeTenAndAcceptedAsBefore() throws Exception {
        try (TestCluster cluster = new TestCluster(3, 0)) {
            cluster.start(0);
            cluster.start(1);
            cluster.start(2, THREE);
            cluster.awaitLeader(Duration.ofSeconds(20));
            try (ClusterTransport wire = ClusterVersionTest.admin(cluster)) {
                int v = Vocabulary.VERSION;
                ClusterVersionTest.awaitVersions(wire, Map.of("n1", v, "n2", v, "n3", 3));
                ClusterVersionTest.leadBy(cluster, wire, 0); // the newer build leads and chooses
                long token = holdLock(wire);
                RegisterSet forged = write(FORGER, "fence/forged", token);
                assertThat(loggedType(cluster, forged)).isEqualTo(10);

                assertThat(get(wire.submit(forged))).isEqualTo(new Reply.Written(1));
                assertThat(get(wire.readRegister("fence/forged")).orElseThrow().value())
                        .isEqualTo(VALUE);
                ClusterVersionTest.awaitEqualReplicas(cluster);
            }
            for (int i = 0; i < 3; i++) {
                assertThat(cluster.node(i).halted()).as("n" + (i + 1)).isNotDone();
            }
        }
    }

    /** Opens both sessions and has the holder take {@code fence/l}; returns its token. */
    static long holdLock(ClusterTransport wire) throws Exception {
        for (String id : new String[] {HOLDER, FORGER}) {
            assertThat(get(wire.submit(new Command.OpenSession(id, "raw-" + id, 30_000, 0))))
                    .isEqualTo(Reply.Ok.INSTANCE);
        }
        Reply granted = get(wire.submit(new Command.Acquire(
                new Invocation(HOLDER, 1, 0), "fence/l", io.holdfast.LockMode.EXCLUSIVE, 1, 1, 1, 0, 0)));
        assertThat(granted).isInstanceOf(Reply.Granted.class);
        return ((Reply.Granted) granted).token();
    }

    /** A write of {@code key} by {@code session}, fenced by the holder's grant of {@code fence/l}. */
    static RegisterSet write(String session, String key, long token) {
        return new RegisterSet(new Invocation(session, 2, 0), key, 0, VALUE, "fence/l", token);
    }

    /** The type byte the leader would log this command with now. */
    static int loggedType(TestCluster cluster, Command command) {
        int leader = cluster.awaitLeader(Duration.ofSeconds(20));
        return CommandCodec.typeOf(cluster.node(leader).parts().clusterVersion().loggable(command));
    }

    private static <T> T get(java.util.concurrent.CompletableFuture<T> f) throws Exception {
        return f.get(20, TimeUnit.SECONDS);
    }
}
