package io.holdfast.server;

import io.holdfast.server.HoldfastServer.StartupException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcFactory;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses to start a member of a cluster whose data directory is empty while its peers know it as a
 * member that has run: one whose disk was lost or wiped and that is restarted under its old id.
 *
 * <p><b>Why.</b> Such a node has forgotten every entry it acknowledged, and acknowledgements are
 * what made entries committed. As a voter with an empty log it votes for any candidate, including
 * one that lacks an entry the cluster committed with this node's help; that candidate wins, and the
 * committed entry (a grant, a fencing token) is gone: two holders of one lock. Raft's safety assumes
 * that a voter's log survives; this guard turns the broken assumption into a refusal.
 *
 * <p><b>How.</b> Before Ratis starts, when this node's Raft storage for the group has no file yet
 * and the group has other members, each of them is asked for its group information (Ratis's
 * admin call on the Raft port, {@link #TIMEOUT} each). Ratis reports there the commit index it
 * last heard from every member; a commit index above 0 for this node's id means this node ran and
 * acknowledged entries before, so the start is refused with one line that says what to do.
 *
 * <p><b>Not guaranteed.</b> The peers' memory of commit indexes is Ratis's, not durable: a peer that
 * restarted since this node was last heard from does not remember it, and a peer that cannot be
 * reached says nothing. The guard then lets the node start, as etcd does when its peers cannot
 * tell it that the member was bootstrapped already. A brand-new member (never started) is never
 * refused: no peer has heard a commit index from it.
 *
 * <p><b>No way around it.</b> There is no option to start such a node anyway: besides the risk
 * above, Ratis 3.3 does not bring it back. Its leader keeps the match index it had for the member
 * and does not go below it when the empty follower answers "inconsistent, next index 0", so the
 * node stays empty for as long as that leader leads (seen in this guard's test before the option
 * was dropped). A member whose data is lost is replaced, not restarted: see docs/server.md.
 *
 * <p><b>One failure story.</b> A disk dies on n3 of a three-node cluster; the operator replaces it
 * and runs the same {@code holdfast server --id n3 ...}. n1 reports n3's commit index 1,204; n3
 * stops with exit 71 and one line: "node n3 has an empty data directory ... but n1 knows it as a
 * member that ran (commit index 1204) ...". The two others go on serving.
 */
final class RejoinGuard {
    private static final Logger LOG = LoggerFactory.getLogger(RejoinGuard.class);

    /** How long each peer may take to answer. */
    static final Duration TIMEOUT = Duration.ofSeconds(2);

    private RejoinGuard() {}

    /**
     * Checks this node before its Raft server is built.
     *
     * @param groupDir this node's Ratis storage directory for the group
     * @throws StartupException when a peer knows this node as one that ran
     */
    static void check(ServerConfig config, RaftGroup group, Path groupDir, Parameters parameters)
            throws StartupException {
        if (group.getPeers().size() < 2 || hasData(groupDir)) {
            return;
        }
        RaftPeerId self = RaftPeerId.valueOf(config.nodeId());
        List<String> silent = new ArrayList<>();
        for (RaftPeer peer : group.getPeers()) {
            if (peer.getId().equals(self)) {
                continue;
            }
            Optional<Long> known;
            try {
                known = commitIndexKnownBy(peer, self, group, parameters);
            } catch (IOException | RuntimeException e) {
                silent.add(peer.getId() + " (" + HoldfastServer.rootMessage(e) + ")");
                continue;
            }
            if (known.isPresent() && known.get() > 0) {
                throw new StartupException(
                        "node " + config.nodeId() + " has an empty data directory (" + config.dataDir() + ") but "
                                + peer.getId() + " knows it as a member that ran (commit index " + known.get()
                                + "): a member that lost its data must not rejoin under its old id (as a voter with"
                                + " an empty log it could elect a leader that lacks entries it acknowledged); restore"
                                + " its data directory, or replace the member (docs/server.md)",
                        null);
            }
        }
        LOG.info(
                "Node {} has no data yet and no peer knows it as a member that ran{}: starting as a new member",
                config.nodeId(),
                silent.isEmpty() ? "" : " (not answering: " + String.join(", ", silent) + ")");
    }

    /** Whether Ratis has written anything for the group here (its metadata, a log segment). */
    static boolean hasData(Path groupDir) throws StartupException {
        Path current = groupDir.resolve("current");
        if (!Files.isDirectory(current)) {
            return false;
        }
        try (Stream<Path> files = Files.list(current)) {
            return files.anyMatch(Files::isRegularFile);
        } catch (IOException e) {
            throw new StartupException(
                    "cannot read the Raft storage " + current + ": " + HoldfastServer.rootMessage(e), e);
        }
    }

    /** The commit index {@code peer} last heard from {@code self}, if it heard any. */
    static Optional<Long> commitIndexKnownBy(RaftPeer peer, RaftPeerId self, RaftGroup group, Parameters parameters)
            throws IOException {
        RaftProperties properties = new RaftProperties();
        RaftClientConfigKeys.Rpc.setRequestTimeout(
                properties, TimeDuration.valueOf(TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS));
        try (RaftClient client = RaftClient.newBuilder()
                .setRaftGroup(group)
                .setProperties(properties)
                .setParameters(parameters)
                .setClientId(ClientId.randomId())
                .setRetryPolicy(RetryPolicies.noRetry())
                .setClientRpc(new GrpcFactory(parameters).newRaftClientRpc(ClientId.randomId(), properties))
                .build()) {
            GroupInfoReply info = client.getGroupManagementApi(peer.getId()).info(group.getGroupId());
            for (CommitInfoProto c : info.getCommitInfos()) {
                if (RaftPeerId.valueOf(c.getServer().getId()).equals(self)) {
                    return Optional.of(c.getCommitIndex());
                }
            }
            return Optional.empty();
        }
    }
}
