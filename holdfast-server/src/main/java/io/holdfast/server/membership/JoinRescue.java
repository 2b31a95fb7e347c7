package io.holdfast.server.membership;

import io.holdfast.Ticker;
import io.holdfast.internal.Causes;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.server.config.RaftSettings;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.leadership.RaftGateway;
import io.holdfast.server.leadership.RaftPortProbe;
import io.holdfast.server.raft.LockStateMachine;
import java.io.File;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.proto.RaftProtos.RaftConfigurationProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.GroupManagementRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.ProtoUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Frees a new member caught in the <em>joint window</em> of its own addition: the leader that was
 * adding it logged the joint configuration (the old members, and the old members with this node),
 * sent it to the old followers, and died before this node received an append that counts it. The
 * survivors then need a majority of the new members too, which takes this node's vote; but Ratis
 * 3.3 runs a member that is not in its own configuration in state {@code STARTING}, moves it to
 * {@code RUNNING} only on such an append, and refuses every vote request before that. No leader can
 * be elected until the dead leader is back (the soak's violation of 2026-11-27: 70 s without a
 * leader; {@code JointWindowTest}).
 *
 * <p><b>What it does.</b> Watching only a node that started with an empty data directory as a
 * member not added yet ({@link RejoinGuard#check}), for as long as its division has never run:
 * when the leader that was bringing it in no longer serves at its Raft address
 * ({@link RaftPortProbe#dial}), and for {@link #stall} in a row none of the members it can ask leads or follows a leader it
 * heard from within an election timeout, and one of them holds a configuration that counts this
 * node as a voter, it logs one WARN line, snapshots what it applied, removes its Raft division,
 * deletes the division's log (which holds only configurations without this node), and adds the
 * division again with that configuration. Ratis then starts it {@code RUNNING}, as a follower, with
 * the snapshot's index as its last entry, so it votes and its vote counts (Ratis's candidates count
 * none from an empty log); a survivor is elected and brings it up to date, and the addition
 * completes (a retried {@code holdfast members add} finds it a member).
 *
 * <p><b>Why it is safe.</b> While {@code STARTING} the node voted for no one (Ratis refused every
 * request) and acknowledged no entry as a member: the appends it took said "initializing", from a
 * leader that counted it in no majority. Nothing the cluster decided rests on its log, so it may
 * forget it, unlike a member that lost its disk ({@link RejoinGuard}, which refuses those); the
 * snapshot it keeps holds only committed entries (it applied no other), so the last entry it
 * claims in a vote is one it truly holds. A vote it casts afterwards is a new member's first vote,
 * in a configuration that the members' logs hold. A node that ever ran (or started with data) is
 * never restarted, nor one that applied nothing (its vote would not count: it goes on waiting).
 *
 * <p><b>Does not</b> help a node restarted with the data of an interrupted addition (it started
 * with data: it is not watched; empty its data directory and start it again), nor a stall where
 * no member reports a configuration counting the node (then it is not what holds the election
 * up). If the removal or the new start fails, the node halts with one line, as when Ratis closes a
 * division ({@link DivisionWatch}).
 *
 * <p>Failure story: n4 is being added to n1, n2 and n3; n3, leading, logs the joint configuration,
 * sends it to n1 and n2, and is SIGKILLed. n1 and n2 campaign and n4 refuses them. After {@link
 * #stall} n4 logs "Node n4 was being added when its leader stopped ... it starts its Raft division
 * again as a member of n1, n2, n3, n4, from its snapshot at index 15", votes for n1, and n1 leads
 * within about an election timeout ({@code JointWindowTest}: 3.1 s from the crash).
 */
public final class JoinRescue implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(JoinRescue.class);

    /** How often the division is looked at (one dial of the leader that was bringing it in, while it is being added). */
    static final Duration EVERY = Duration.ofMillis(500);

    /** How long each member may take to say what it holds. */
    private static final Duration ASK_TIMEOUT = Duration.ofSeconds(1);

    /** How long the removal or the new start of the division may take. */
    private static final Duration RESTART_TIMEOUT = Duration.ofSeconds(30);

    private final RaftServer raft;
    private final RaftGroupId group;
    private final RaftPeerId self;
    private final Parameters parameters;
    /**
     * How long the signs must last: two of the longest election timeouts, time enough for an
     * election that can succeed without this node's vote (a larger cluster's) to succeed.
     */
    private final Duration stall;
    /** The longest election timeout: a follower that heard its leader within it follows a live one. */
    private final long electionTimeoutMillis;

    private final Consumer<String> halt;
    /** The node's state machine: snapshotted before the new start. */
    private final LockStateMachine machine;

    private final ScheduledExecutorService timer;
    private final ExecutorService askers;
    private final AtomicBoolean restarting = new AtomicBoolean();
    /** The node's clock. */
    private final Ticker ticker;
    /** Since when the signs have held ({@link #ticker}), or -1. */
    private final AtomicLong stalledSince = new AtomicLong(-1);

    private JoinRescue(
            RaftServer raft,
            RaftGroupId group,
            Parameters parameters,
            Duration electionTimeoutMax,
            LockStateMachine machine,
            Ticker ticker,
            Consumer<String> halt) {
        this.raft = raft;
        this.ticker = ticker;
        this.group = group;
        this.self = raft.getId();
        this.parameters = parameters;
        this.electionTimeoutMillis = electionTimeoutMax.toMillis();
        this.stall = electionTimeoutMax.multipliedBy(2);
        this.halt = halt;
        this.machine = machine;
        this.timer = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("holdfast-join-rescue-" + self));
        this.askers = Executors.newCachedThreadPool(DaemonThreads.named("holdfast-join-rescue-ask-" + self));
    }

    /**
     * Starts watching this node's division if it started empty as a member not added yet ({@code
     * startGroup} without members: {@link RejoinGuard#check}); otherwise returns a watch that never
     * looks.
     */
    public static JoinRescue startIfJoining(
            RaftGroup startGroup,
            RaftServer raft,
            ServerConfig config,
            LockStateMachine machine,
            Ticker ticker,
            Consumer<String> halt) {
        JoinRescue rescue = new JoinRescue(
                raft,
                startGroup.getGroupId(),
                RaftSettings.parameters(config),
                config.electionTimeoutMin().multipliedBy(2),
                machine,
                ticker,
                halt);
        if (startGroup.getPeers().isEmpty()) {
            rescue.timer.scheduleWithFixedDelay(
                    rescue::check, EVERY.toMillis(), EVERY.toMillis(), TimeUnit.MILLISECONDS);
        }
        return rescue;
    }

    /** Whether the division is being removed and added again now (it is closed or missing meanwhile). */
    public boolean restarting() {
        return restarting.get();
    }

    private void check() {
        try {
            RaftServer.Division division = raft.getDivision(group);
            LifeCycle.State state = division.getInfo().getLifeCycleState();
            if (state != LifeCycle.State.STARTING) {
                timer.shutdown(); // it runs (added), or it closed: never again
                return;
            }
            Optional<RaftGroup> members = stagingLeaderGone(division) ? stuck(division) : Optional.empty();
            if (members.isEmpty()) {
                stalledSince.set(-1);
                return;
            }
            long now = ticker.nanos();
            stalledSince.compareAndSet(-1, now);
            if (now - stalledSince.get() >= stall.toNanos() && !timer.isShutdown()) {
                timer.shutdown();
                restart(division, members.get());
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("Node {}: the watch of its addition failed; it goes on", self, e);
        }
    }

    /**
     * Whether a leader began to bring this node in (it sent appends) and nothing serves at its Raft
     * address now ({@link RaftPortProbe#dial}: one dial). A node still waiting for {@code
     * holdfast members add}, or one whose leader is up, asks the members nothing.
     */
    private static boolean stagingLeaderGone(RaftServer.Division division) {
        RaftPeerId leader = division.getInfo().getLeaderId();
        if (leader == null) {
            return false;
        }
        RaftPeer peer = division.getRaftConf().getPeer(leader);
        return peer == null
                || peer.getAddress() == null
                || RaftPortProbe.dial(peer.getAddress()) != RaftPortProbe.Result.SERVES;
    }

    /**
     * The group to start again with, if the signs hold now: no member asked leads or follows a
     * leader heard within an election timeout, and one holds a configuration that counts this node
     * as a voter (its voters and learners, then, with their addresses).
     */
    private Optional<RaftGroup> stuck(RaftServer.Division division) {
        Map<RaftPeerId, RaftPeer> peers = new LinkedHashMap<>();
        division.getRaftConf().getAllPeers().forEach(p -> peers.putIfAbsent(p.getId(), p));
        division.getGroup().getPeers().forEach(p -> peers.putIfAbsent(p.getId(), p));
        peers.remove(self);
        List<CompletableFuture<GroupInfoReply>> asked = new ArrayList<>();
        RaftGroup askVia = RaftGroup.valueOf(group, peers.values());
        for (RaftPeer peer : peers.values()) {
            asked.add(CompletableFuture.supplyAsync(
                    () -> {
                        try {
                            return PeerViews.groupInfo(peer, askVia, parameters, ASK_TIMEOUT);
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    },
                    askers));
        }
        RaftConfigurationProto counting = null;
        for (CompletableFuture<GroupInfoReply> answer : asked) {
            GroupInfoReply info;
            try {
                info = answer.get(ASK_TIMEOUT.toMillis() + 1000, TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                continue; // down or cut off: says nothing
            }
            if (RaftGateway.followsALeader(info.getRoleInfoProto(), electionTimeoutMillis)) {
                return Optional.empty();
            }
            RaftConfigurationProto conf = info.getConf().orElse(null);
            if (counting == null && countsAsVoter(conf, self)) {
                counting = conf;
            }
        }
        if (counting == null) {
            return Optional.empty();
        }
        List<RaftPeer> members = new ArrayList<>(ProtoUtils.toRaftPeers(counting.getPeersList()));
        members.addAll(ProtoUtils.toRaftPeers(counting.getListenersList()));
        return Optional.of(RaftGroup.valueOf(group, members));
    }

    /** Whether {@code conf} (a member's newest) counts {@code self} among its voters. */
    static boolean countsAsVoter(RaftConfigurationProto conf, RaftPeerId self) {
        return conf != null
                && conf.getPeersList().stream()
                        .anyMatch(p -> RaftPeerId.valueOf(p.getId()).equals(self));
    }

    /**
     * Snapshots what the division applied, removes the division, deletes its log and the
     * configuration recorded with its last snapshot (keeping its term and vote, and the snapshot),
     * and adds it again with {@code members}. The snapshot is what makes its vote count: Ratis's
     * candidates count no vote from a member whose log is empty (a guard against a member that lost
     * its disk), and the snapshot's index is the node's last entry.
     */
    private void restart(RaftServer.Division division, RaftGroup members) {
        String list = String.join(
                ", ",
                members.getPeers().stream()
                        .map(p -> p.getId().toString())
                        .sorted()
                        .toList());
        restarting.set(true);
        ClientId client = ClientId.randomId();
        try {
            long snapshot = machine.takeSnapshot();
            if (snapshot < 0) {
                LOG.warn(
                        "Node {} was being added when its leader stopped, and no member has led for {} ms since; the"
                                + " members count it as a voter, but it applied nothing yet, so its vote would not count:"
                                + " it waits for the leader to come back",
                        self,
                        stall.toMillis());
                return;
            }
            LOG.warn(
                    "Node {} was being added when its leader stopped, and no member has led for {} ms since: the"
                            + " members count it as a voter, but Ratis lets it vote only once a leader has replicated to"
                            + " it as one. It never voted or acknowledged an entry as a member, so it starts its Raft"
                            + " division again as a member of {}, from its snapshot at index {}",
                    self,
                    stall.toMillis(),
                    list,
                    snapshot);
            File current = division.getRaftStorage().getStorageDir().getCurrentDir();
            raft.groupManagementAsync(GroupManagementRequest.newRemove(client, self, 1, group, false, false))
                    .get(RESTART_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            forgetLog(current.toPath());
            raft.groupManagementAsync(GroupManagementRequest.newAdd(client, self, 2, members, false))
                    .get(RESTART_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            LOG.info("Node {} started its Raft division again as a member of {}", self, list);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            String reason = "node " + self + " stops: starting its Raft division again as a member of " + list
                    + " failed (" + Causes.rootMessage(e) + "); empty its data directory and start it again";
            LOG.error(reason);
            halt.accept(reason);
        } finally {
            restarting.set(false);
        }
    }

    /**
     * Deletes the log segments of a closed division, and the configuration Ratis recorded with its
     * last installed snapshot, in its {@code current} directory: both hold configurations that do
     * not count this node, which would start it {@code STARTING} again. Its term and vote ({@code
     * raft-meta}) and its state machine's snapshots stay.
     */
    static void forgetLog(Path current) throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(current)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                if (name.startsWith("log_") || name.equals("raft-meta.conf")) {
                    Files.delete(f);
                }
            }
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        askers.shutdownNow();
    }

    @Override
    public String toString() {
        return "JoinRescue[" + self + "]";
    }
}
