package io.holdfast.server;

import io.holdfast.core.CommandCodec;
import io.holdfast.core.LockTable;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcFactory;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the cluster, through the log, which protocol version this node's build speaks ({@link
 * Command.ReportVersion}), so that every replica and every later leader agrees on the cluster's
 * version (see {@link io.holdfast.core.Vocabulary}).
 *
 * <p>A thread of its own looks at what the applied table holds for this node every {@link
 * #CHECK_MILLIS} ms; while that is not this build's version, it sends a report through Ratis's own
 * client to whichever member leads (a follower cannot write to the log itself), and backs off up
 * to {@link #MAX_BACKOFF_MILLIS} ms while that fails. A node therefore writes one entry when it
 * first starts, and one after each upgrade; a table restored from a backup holds no reports, and
 * every member reports again.
 *
 * <p>Not guaranteed: a node whose report cannot reach a leader (a partition, no quorum) counts as
 * version 1 in the meantime, which only holds new commands back.
 */
final class VersionReport implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(VersionReport.class);
    static final long CHECK_MILLIS = 1_000;
    static final long MAX_BACKOFF_MILLIS = 15_000;
    private static final long REQUEST_TIMEOUT_MILLIS = 5_000;

    private final RaftServer server;
    private final RaftGroupId groupId;
    private final String self;
    private final LockStateMachine machine;
    private final Parameters parameters;
    private final Thread thread;
    private volatile boolean closed;

    VersionReport(
            RaftServer server, RaftGroupId groupId, String self, LockStateMachine machine, Parameters parameters) {
        this.server = server;
        this.groupId = groupId;
        this.self = self;
        this.machine = machine;
        this.parameters = parameters;
        this.thread = new Thread(this::run, "holdfast-version-report-" + self);
        this.thread.setDaemon(true);
        this.thread.start();
    }

    private void run() {
        long backoff = CHECK_MILLIS;
        boolean warned = false;
        while (!closed) {
            int version = machine.vocabulary.version();
            Integer recorded = machine.read(t -> t.memberVersions().get(self));
            long pause = CHECK_MILLIS;
            if (recorded == null || recorded != version) {
                String failure = send(version);
                if (failure == null) {
                    LOG.info("Node {} reported protocol version {} to the cluster", self, version);
                    backoff = CHECK_MILLIS;
                    warned = false;
                    // The leader applied it; this replica may be behind (a node that just started
                    // catches up): give it time to apply the report before sending another.
                    pause = MAX_BACKOFF_MILLIS;
                } else {
                    if (!warned || backoff >= MAX_BACKOFF_MILLIS) {
                        LOG.info("Node {} could not report its protocol version yet: {}", self, failure);
                        warned = true;
                    }
                    pause = backoff;
                    backoff = Math.min(MAX_BACKOFF_MILLIS, backoff * 2);
                }
            }
            try {
                Thread.sleep(pause);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Sends one report; null if the log took it, else why not (one line). */
    private String send(int version) {
        RaftGroup group;
        RaftPeerId leader;
        try {
            // Straight to the leader: Ratis's client logs an ERROR for every member it tries that
            // does not lead, and each node sends a report when it starts.
            leader = server.getDivision(groupId).getInfo().getLeaderId();
            if (leader == null) {
                return "no leader yet";
            }
            // The Raft addresses only: a member's client address in the configuration is Holdfast's
            // own client port, which Ratis's client would otherwise use.
            group = RaftGroup.valueOf(
                    groupId,
                    server.getDivision(groupId).getGroup().getPeers().stream()
                            .map(p -> RaftPeer.newBuilder()
                                    .setId(p.getId())
                                    .setAddress(p.getAddress())
                                    .build())
                            .toList());
        } catch (java.io.IOException | RuntimeException e) {
            return "the Raft group is not readable: " + HoldfastServer.rootMessage(e);
        }
        byte[] entry =
                EntryCodec.encodeCommands(List.of(CommandCodec.encode(0, new Command.ReportVersion(self, version))));
        RaftProperties properties = new RaftProperties();
        RaftClientConfigKeys.Rpc.setRequestTimeout(
                properties, TimeDuration.valueOf(REQUEST_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS));
        try (RaftClient client = RaftClient.newBuilder()
                .setRaftGroup(group)
                .setLeaderId(leader)
                .setProperties(properties)
                .setParameters(parameters)
                .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(
                        group.getPeers().size() * 2, TimeDuration.valueOf(200, TimeUnit.MILLISECONDS)))
                .setClientRpc(new GrpcFactory(parameters).newRaftClientRpc(ClientId.randomId(), properties))
                .build()) {
            // The blocking API: the asynchronous one logs an ERROR with a stack trace for every
            // attempt that fails (a leader stepping down, a member stopping).
            RaftClientReply reply = client.io().send(Message.valueOf(ByteString.copyFrom(entry)));
            if (!reply.isSuccess()) {
                return String.valueOf(reply.getException());
            }
            Reply answer = EntryCodec.decodeReplies(
                            reply.getMessage().getContent().toByteArray(), 1)
                    .get(0);
            return answer instanceof Reply.Failed f ? f.message() : null;
        } catch (java.io.InterruptedIOException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        } catch (Exception e) {
            return HoldfastServer.rootMessage(e);
        }
    }

    /** The version the applied table holds for this node, or null (for tests). */
    Integer recorded() {
        return machine.read(LockTable::memberVersions).get(self);
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
    }
}
