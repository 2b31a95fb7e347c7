package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.core.CommandCodec;
import io.holdfast.model.Command;
import io.holdfast.server.config.RaftSettings;
import io.holdfast.server.raft.EntryCodec;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

/**
 * An entry with a command of a kind this build cannot read: the leader does not log one (a client of
 * the Raft port cannot stop the cluster with it), and a replica that meets one in its log (a newer
 * build's leader wrote it) stops before applying it, instead of applying the entry without it and
 * differing from the replicas that can read it.
 */
class UnknownCommandTest {
    /** A well-formed entry of one command whose type byte no build knows yet. */
    private static byte[] entryWithUnknownCommand() {
        byte[] known = CommandCodec.encode(1, new Command.Tick());
        byte[] unknown = known.clone();
        unknown[1] = (byte) 200; // format byte, then the type byte
        assertThat(CommandCodec.knownKind(known)).isTrue();
        assertThat(CommandCodec.knownKind(unknown)).isFalse();
        return EntryCodec.encodeCommands(List.of(known, unknown));
    }

    @Test
    void theLeaderDoesNotLogAnEntryItCannotRead() throws Exception {
        byte[] entry = entryWithUnknownCommand();
        assertThat(EntryCodec.unknownKind(entry))
                .contains("command 1 of the entry is of a kind this build does not know");
        try (TestCluster cluster = new TestCluster(3)) {
            cluster.awaitLeader(Duration.ofSeconds(20));
            long before = cluster.node(cluster.leaderIndex()).status().appliedIndex();
            assertThat(send(cluster, entry)).contains("not logged");
            try (LockClient client = LockClient.open(cluster.uri(), ClientOptions.defaults())) {
                client.lock("u/after").acquire(Duration.ofSeconds(10)).release();
            }
            for (int i = 0; i < 3; i++) {
                assertThat(cluster.node(i).halted()).isNotDone();
            }
            assertThat(cluster.node(cluster.leaderIndex()).status().appliedIndex())
                    .isGreaterThan(before);
        }
    }

    @Test
    void aReplicaThatMeetsACommandItCannotReadStopsInsteadOfDiverging() throws Exception {
        try (TestCluster cluster = new TestCluster(3)) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(20));
            try (LockClient client = LockClient.open(cluster.uri(), ClientOptions.defaults())) {
                client.lock("u/before").acquire(Duration.ofSeconds(10)).release();
            }
            // Play a newer build's leader: it logs what this build cannot read.
            cluster.node(leader).parts().machine().checkKinds(false);
            send(cluster, entryWithUnknownCommand());

            String reason = cluster.node(leader).halted().get(20, TimeUnit.SECONDS);
            assertThat(reason)
                    .contains("holds a command this build cannot read")
                    .contains("unknown command type 200")
                    .doesNotContain("\n");
            java.util.regex.Matcher m =
                    java.util.regex.Pattern.compile("entry (\\d+) ").matcher(reason);
            assertThat(m.find()).isTrue();
            long index = Long.parseLong(m.group(1));
            // No replica applied the entry, so none differs from another: each stopped at it, or
            // (a follower that never learnt it was committed) has not reached it.
            Thread.sleep(2_000);
            int halted = 0;
            for (int i = 0; i < 3; i++) {
                assertThat(cluster.node(i).status().appliedIndex())
                        .as("n" + (i + 1))
                        .isLessThan(index);
                halted += cluster.node(i).halted().isDone() ? 1 : 0;
            }
            assertThat(halted).isGreaterThanOrEqualTo(1);
        }
    }

    /** Sends the entry through Ratis's own client, as any client of the Raft port can; the outcome. */
    static String send(TestCluster cluster, byte[] entry) throws Exception {
        RaftProperties properties = new RaftProperties();
        try (RaftClient client = RaftClient.newBuilder()
                .setRaftGroup(cluster.raftGroup())
                .setLeaderId(org.apache.ratis.protocol.RaftPeerId.valueOf("n" + (cluster.leaderIndex() + 1)))
                .setProperties(properties)
                .setRetryPolicy(RetryPolicies.noRetry())
                .setClientRpc(RaftSettings.clientRpc(RaftSettings.parameters(cluster.config(0)), properties))
                .build()) {
            try {
                RaftClientReply reply = client.async()
                        .send(Message.valueOf(ByteString.copyFrom(entry)))
                        .get(20, TimeUnit.SECONDS);
                return reply.isSuccess() ? "logged" : String.valueOf(reply.getException());
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                return String.valueOf(e.getCause() == null ? e : e.getCause());
            }
        }
    }
}
