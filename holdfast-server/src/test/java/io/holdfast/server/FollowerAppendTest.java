package io.holdfast.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.holdfast.server.config.ServerConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
import org.apache.ratis.proto.RaftProtos.StateMachineLogEntryProto;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Raft follower, with the node's own Ratis settings ({@link HoldfastServer#raftProperties}), must
 * end up with the newer leader's entries when two leaders' appends for the same indices reach it
 * back to back: the old leader's still being written when the new leader's arrive.
 *
 * <p>This is the Log Matching property on which everything else rests. Ratis 3.3.0's "compose"
 * path for follower appends ({@code raft.server.log.append-entries.compose.enabled}, on by
 * default) breaks it: it remembers the appends still being written by their first index only, and
 * an append whose first index is already pending is taken for a duplicate and dropped, whatever its
 * term. The follower then answers SUCCESS for the new leader's entries while its log keeps the old
 * leader's, the new leader counts it towards a majority, and when the commit index passes them the
 * follower applies entries no other replica has (found by {@code holdfast verify}'s one-way
 * scenario: replicas differed and fencing tokens went backwards). With compose on, this test fails:
 * the log keeps the old leader's term at the contested indices.
 *
 * <p>The follower is a real Ratis server with a real log on disk; the two leaders are this test,
 * calling the follower's Raft protocol directly, as the gRPC service does for a peer.
 */
class FollowerAppendTest {
    private static final RaftGroupId GROUP =
            RaftGroupId.valueOf(UUID.fromString("5e1f7c1e-0000-4000-8000-000000000001"));

    @TempDir
    Path dir;

    @Test
    void aNewLeadersEntriesReplaceAnOldLeadersEntriesStillBeingWritten() throws Exception {
        Map<String, ServerConfig.Peer> peers = new LinkedHashMap<>();
        for (String id : List.of("n1", "n2", "n3")) {
            peers.put(id, new ServerConfig.Peer("127.0.0.1", freePort(), freePort()));
        }
        // Only n2 runs; n1 and n3 are played by the test. A long election timeout keeps n2 a follower.
        ServerConfig config = new ServerConfig(
                "n2", peers, dir, "127.0.0.1", peers.get("n2").clientPort(), -1, true, Duration.ofSeconds(60));
        Path raftDir = Files.createDirectories(dir.resolve("raft"));
        RaftProperties properties = HoldfastServer.raftProperties(config, raftDir);
        RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMin(properties, TimeDuration.valueOf(60, TimeUnit.SECONDS));
        RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMax(properties, TimeDuration.valueOf(90, TimeUnit.SECONDS));
        List<RaftPeer> raftPeers = new ArrayList<>();
        peers.forEach((id, p) -> raftPeers.add(
                RaftPeer.newBuilder().setId(id).setAddress(p.raftAddress()).build()));
        RaftServer server = RaftServer.newBuilder()
                .setServerId(RaftPeerId.valueOf("n2"))
                .setGroup(RaftGroup.valueOf(GROUP, raftPeers))
                .setStateMachine(new BaseStateMachine())
                .setProperties(properties)
                .setOption(RaftStorage.StartupOption.RECOVER)
                .build();
        server.start();
        int accepted = 0;
        try {
            for (int round = 0; round < 20; round++) {
                long oldTerm = 10L * round + 1;
                long newTerm = oldTerm + 1;
                long first = server.getDivision(GROUP).getRaftLog().getNextIndex();
                long previous = first - 1;
                long previousTerm = previous < 0
                        ? 0
                        : server.getDivision(GROUP)
                                .getRaftLog()
                                .getTermIndex(previous)
                                .getTerm();
                // The old leader (n1) sends three entries; before they are on disk, the new leader (n3),
                // elected meanwhile, sends two others for the same indices.
                CompletableFuture<AppendEntriesReplyProto> old =
                        server.appendEntriesAsync(append("n1", oldTerm, previous, previousTerm, first, 3, -1));
                CompletableFuture<AppendEntriesReplyProto> fresh =
                        server.appendEntriesAsync(append("n3", newTerm, previous, previousTerm, first, 2, first + 1));
                old.get(30, TimeUnit.SECONDS);
                AppendEntriesReplyProto reply = fresh.get(30, TimeUnit.SECONDS);
                if (reply.getResult() != AppendEntriesReplyProto.AppendResult.SUCCESS) {
                    continue; // refused, and so not counted: safe
                }
                accepted++;
                var log = server.getDivision(GROUP).getRaftLog();
                for (long i = first; i <= first + 1; i++) {
                    assertEquals(
                            newTerm,
                            log.getTermIndex(i).getTerm(),
                            "round " + round + ": the follower answered SUCCESS to the leader of term " + newTerm
                                    + " for index " + i + " but its log holds the entry of term "
                                    + log.getTermIndex(i).getTerm());
                }
            }
        } finally {
            server.close();
        }
        // the new leader's appends were accepted (else this test checked nothing)
        assertEquals(20, accepted, "rounds in which the follower accepted the new leader's entries");
    }

    /** An append from {@code leader}: {@code count} entries from index {@code first} (none if 0). */
    private static AppendEntriesRequestProto append(
            String leader, long term, long previous, long previousTerm, long first, int count, long commit) {
        AppendEntriesRequestProto.Builder b = AppendEntriesRequestProto.newBuilder()
                .setServerRequest(RaftRpcRequestProto.newBuilder()
                        .setRequestorId(RaftPeerId.valueOf(leader).toByteString())
                        .setReplyId(RaftPeerId.valueOf("n2").toByteString())
                        .setRaftGroupId(org.apache.ratis.proto.RaftProtos.RaftGroupIdProto.newBuilder()
                                .setId(GROUP.toByteString()))
                        .setCallId(term * 1000 + count))
                .setLeaderTerm(term)
                .setLeaderCommit(commit)
                .setInitializing(false);
        if (previous >= 0) {
            b.setPreviousLog(org.apache.ratis.server.protocol.TermIndex.valueOf(previousTerm, previous)
                    .toProto());
        }
        for (int i = 0; i < count; i++) {
            b.addEntries(LogEntryProto.newBuilder()
                    .setTerm(term)
                    .setIndex(first + i)
                    .setStateMachineLogEntry(StateMachineLogEntryProto.newBuilder()
                            .setClientId(org.apache.ratis.protocol.ClientId.randomId()
                                    .toByteString())
                            .setCallId(first + i)
                            .setLogData(ByteString.copyFrom(
                                    leader + "@" + term + "#" + (first + i), StandardCharsets.UTF_8))));
        }
        return b.build();
    }

    private static int freePort() throws java.io.IOException {
        return io.holdfast.testkit.FreePorts.next(); // below the kernel's range for automatic ports
    }
}
