package io.holdfast.server.membership;

import io.holdfast.RetryPolicy;
import io.holdfast.core.CommandCodec;
import io.holdfast.core.LockTable;
import io.holdfast.internal.Backoffs;
import io.holdfast.internal.Causes;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import io.holdfast.server.config.RaftSettings;
import io.holdfast.server.raft.EntryCodec;
import io.holdfast.server.raft.LockStateMachine;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
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
 * to {@link #MAX_BACKOFF_MILLIS} ms while that fails ({@link Backoffs#versionReport()}). A
 * node therefore writes one entry when it first starts, and one after each upgrade; a table
 * restored from a backup holds no reports, and every member reports again.
 *
 * <p>A new member, started before {@code holdfast members add} and knowing no members yet, asks
 * the members of its {@code --peers} which of them leads and reports to that one: the leader
 * admits a voter only once it reported ({@link VersionAdmission}).
 *
 * <p>On the leader, the same thread records the cluster's version ({@link LockTable#VERSION_FLOOR})
 * once every member reported a version above the one recorded: the cluster's version never drops
 * below it by itself (a member not reported yet, or reporting less, does not lower it).
 *
 * <p>Not guaranteed: a node whose report cannot reach a leader (a partition, no quorum) counts as
 * version 1 in the meantime where no version is recorded yet, which only holds new commands back.
 */
public final class VersionReport implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(VersionReport.class);
    static final long CHECK_MILLIS = 1_000;
    /**
     * The reserved name prefix (a colon: no member's id) under which a member reports its HTTP port
     * as the "version" of a {@link Command.ReportVersion}: a command every build reads, so that
     * the members know each other's HTTP address without a new kind of entry.
     */
    static final String HTTP_PORT = "http-port:";

    /** How long a report that failed waits before the next one: {@link Backoffs#versionReport()}. */
    private static final RetryPolicy BACKOFF = Backoffs.versionReport();

    static final long MAX_BACKOFF_MILLIS = BACKOFF.maxDelay().toMillis();
    private static final long REQUEST_TIMEOUT_MILLIS = 5_000;

    private final RaftServer server;
    private final RaftGroupId groupId;
    private final String self;
    private final LockStateMachine machine;
    private final Parameters parameters;
    /** The members of {@code --peers}: where a new member, which knows no members yet, finds the leader. */
    private final RaftGroup configured;
    /** This node's HTTP port, reported beside its version so that the others can name it; -1 without one. */
    private final int httpPort;

    private final Thread thread;
    private volatile boolean closed;
    /** The version this leader last failed to record (its failures are logged once per version). */
    private int unrecorded;

    public VersionReport(
            RaftServer server,
            RaftGroup configured,
            String self,
            LockStateMachine machine,
            Parameters parameters,
            int httpPort) {
        this.server = server;
        this.httpPort = httpPort;
        this.groupId = configured.getGroupId();
        this.configured = configured;
        this.self = self;
        this.machine = machine;
        this.parameters = parameters;
        this.thread = DaemonThreads.thread(this::run, "holdfast-version-report-" + self);
        this.thread.start();
    }

    private void run() {
        int failures = 0; // reports failed in a row
        boolean warned = false;
        long waited = 0; // since the last report was sent, or failed
        long pause = 0; // how long to wait then before sending another
        boolean reportedAsNew = false; // reported while no member yet: once is enough until added
        while (!closed) {
            recordClusterVersion();
            java.util.Map<String, Integer> due = due();
            boolean added = knowsMembers();
            if (!due.isEmpty() && waited >= pause && (added || !reportedAsNew)) {
                waited = 0;
                String failure = null;
                for (var report : due.entrySet()) {
                    failure = failure != null ? failure : send(report.getKey(), report.getValue());
                }
                if (failure == null) {
                    LOG.info("Node {} reported {} to the cluster", self, describe(due));
                    reportedAsNew = !added;
                    failures = 0;
                    warned = false;
                    // The leader applied it; this replica may be behind (a node that just started
                    // catches up): give it time to apply the report before sending another.
                    pause = MAX_BACKOFF_MILLIS;
                } else {
                    pause = BACKOFF.delayBefore(++failures, () -> 0.0).toMillis();
                    if (!warned || pause >= MAX_BACKOFF_MILLIS) {
                        LOG.info("Node {} could not report its protocol version yet: {}", self, failure);
                        warned = true;
                    }
                }
            }
            try {
                Thread.sleep(CHECK_MILLIS);
                waited += CHECK_MILLIS;
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /**
     * Whether this node knows members besides itself; a new member, started before {@code holdfast
     * members add}, knows none until the leader sends it the log. Its table is empty until then, so
     * its report seems missing: it is sent once, not again every {@link #MAX_BACKOFF_MILLIS} ms.
     */
    private boolean knowsMembers() {
        try {
            return server.getDivision(groupId).getGroup().getPeers().stream()
                    .anyMatch(p -> !p.getId().toString().equals(self));
        } catch (java.io.IOException | RuntimeException e) {
            return true;
        }
    }

    /** The reports the applied table does not hold yet: this node's version, and its HTTP port. */
    private java.util.Map<String, Integer> due() {
        java.util.Map<String, Integer> wanted = new java.util.LinkedHashMap<>();
        wanted.put(self, machine.vocabulary().version());
        if (httpPort > 0) {
            wanted.put(HTTP_PORT + self, httpPort);
        }
        java.util.Map<String, Integer> held = machine.read(LockTable::versionReports);
        wanted.entrySet().removeIf(e -> e.getValue().equals(held.get(e.getKey())));
        return wanted;
    }

    private String describe(java.util.Map<String, Integer> reports) {
        List<String> parts = new java.util.ArrayList<>();
        reports.forEach(
                (name, value) -> parts.add(name.equals(self) ? "protocol version " + value : "HTTP port " + value));
        return String.join(" and ", parts);
    }

    /**
     * The HTTP address ({@code host:port}) of member {@code id}, whose Raft address is {@code
     * raftAddress}: the host of its Raft address and the HTTP port it reported; null while it has
     * not reported one (a member of an older build, or one without an HTTP port).
     */
    static String httpAddress(LockStateMachine machine, String id, String raftAddress) {
        Integer port = machine.read(t -> t.versionReports().get(HTTP_PORT + id));
        int colon = raftAddress == null ? -1 : raftAddress.lastIndexOf(':');
        return port == null || colon < 0 ? null : raftAddress.substring(0, colon) + ":" + port;
    }

    /** The leader's HTTP address as the members reported it ({@link #httpAddress}), or null. */
    public static String leaderHttpAddress(RaftServer server, RaftGroupId groupId, LockStateMachine machine) {
        try {
            RaftServer.Division division = server.getDivision(groupId);
            RaftPeerId id = division.getInfo().getLeaderId();
            RaftPeer peer = id == null
                    ? null
                    : division.getRaftConf().getPeer(id, RaftPeerRole.FOLLOWER, RaftPeerRole.LISTENER);
            return peer == null ? null : httpAddress(machine, id.toString(), peer.getAddress());
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * On the leader: records the cluster's version once every member (voters and learners, old and
     * new during a change) reported one above the version recorded. Only ever raises it.
     */
    private void recordClusterVersion() {
        try {
            // Ready: it has applied every entry of the terms before its own, so its table is current.
            if (!server.getDivision(groupId).getInfo().isLeaderReady()) {
                return;
            }
            java.util.Set<String> members = ClusterVersion.members(machine);
            if (members.isEmpty()) {
                return;
            }
            java.util.Map<String, Integer> reported = machine.read(LockTable::memberVersions);
            if (!reported.keySet().containsAll(members)) {
                return; // not every member reported yet
            }
            int floor = machine.read(LockTable::versionFloor);
            int lowest = members.stream().mapToInt(reported::get).min().orElse(0);
            if (lowest > floor) {
                String failure = send(LockTable.VERSION_FLOOR, lowest);
                if (failure == null) {
                    LOG.info(
                            "Node {} recorded the cluster's protocol version {}: every member reported it",
                            self,
                            lowest);
                } else if (unrecorded != lowest) { // once per version: it is tried again every second
                    unrecorded = lowest;
                    LOG.info(
                            "Node {} could not record the cluster's protocol version {} yet: {}",
                            self,
                            lowest,
                            failure);
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            LOG.debug("Node {} could not read the members to record the cluster's version", self, e);
        }
    }

    /** Sends one report of {@code member}; null if the log took it, else why not (one line). */
    private String send(String member, int version) {
        RaftGroup group;
        RaftPeerId leader;
        try {
            RaftServer.Division division = server.getDivision(groupId);
            // The members it knows; a new member, not added yet, knows none: those of --peers.
            List<RaftPeer> peers = new java.util.ArrayList<>(division.getGroup().getPeers());
            if (peers.stream().noneMatch(p -> !p.getId().toString().equals(self))) {
                peers = new java.util.ArrayList<>(configured.getPeers());
            }
            group = RaftSettings.raftAddressesOnly(RaftGroup.valueOf(groupId, peers));
            // Straight to the leader: Ratis's client logs an ERROR for every member it tries that
            // does not lead, and each node sends a report when it starts.
            leader = division.getInfo().getLeaderId();
            if (leader == null) {
                Found found = askLeader(group);
                if (found == null) {
                    return "no leader yet";
                }
                // The members as the answering member knows them: the leader may be one that joined
                // after --peers was written, whose address only they know.
                leader = found.leader();
                group = found.group();
            }
        } catch (java.io.IOException | RuntimeException e) {
            return "the Raft group is not readable: " + Causes.rootMessage(e);
        }
        byte[] entry =
                EntryCodec.encodeCommands(List.of(CommandCodec.encode(0, new Command.ReportVersion(member, version))));
        try {
            // The blocking API: the asynchronous one logs an ERROR with a stack trace for every
            // attempt that fails (a leader stepping down, a member stopping).
            RaftClientReply reply = OneShotClient.call(
                    OneShotClient.builder(
                                    group,
                                    parameters,
                                    java.time.Duration.ofMillis(REQUEST_TIMEOUT_MILLIS),
                                    RetryPolicies.retryUpToMaximumCountWithFixedSleep(
                                            group.getPeers().size() * 2,
                                            TimeDuration.valueOf(200, TimeUnit.MILLISECONDS)))
                            .setLeaderId(leader),
                    client -> client.io().send(Message.valueOf(ByteString.copyFrom(entry))));
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
            return Causes.rootMessage(e);
        }
    }

    /** The leader a member named, and the members (with their Raft addresses) as that member knows them. */
    private record Found(RaftPeerId leader, RaftGroup group) {}

    /**
     * The leader as the other members of {@code group} name it (each asked for its group's
     * information in turn), with the members as the one that answered knows them, or null if none
     * names one: how a new member that no leader has contacted yet finds where to report, even when
     * the leader is a member its {@code --peers} does not name.
     */
    private Found askLeader(RaftGroup group) {
        for (RaftPeer peer : group.getPeers()) {
            if (closed || peer.getId().toString().equals(self)) {
                continue;
            }
            try {
                var info = OneShotClient.call(
                        OneShotClient.builder(group, parameters, PeerViews.TIMEOUT, RetryPolicies.noRetry()),
                        client -> client.getGroupManagementApi(peer.getId()).info(groupId));
                RoleInfoProto role = info.getRoleInfoProto();
                RaftPeerId leader = null;
                if (role.getRole() == RaftPeerRole.LEADER) {
                    leader = peer.getId();
                } else if (role.hasFollowerInfo() && role.getFollowerInfo().hasLeaderInfo()) {
                    var id = role.getFollowerInfo().getLeaderInfo().getId().getId();
                    if (!id.isEmpty()) {
                        leader = RaftPeerId.valueOf(id);
                    }
                }
                if (leader != null) {
                    return new Found(leader, RaftSettings.raftAddressesOnly(info.getGroup()));
                }
            } catch (java.io.IOException | RuntimeException e) {
                LOG.debug("Node {} could not ask {} for the leader", self, peer.getId(), e);
            }
        }
        return null;
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
