package io.holdfast.server.membership;

import io.holdfast.internal.Causes;
import io.holdfast.internal.DaemonThreads;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.util.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops a node whose Raft division Ratis closed while the node runs on. Ratis closes a division by
 * itself in a few cases: a candidate that finds itself outside the configuration its log holds, or
 * that a leader tells to shut down ({@code LeaderElection}: {@code NOT_IN_CONF}, {@code
 * SHUTDOWN}); a leader that committed its own removal; a state machine that threw. The process
 * then still serves its ports, but every append to it fails with "current state is CLOSED", and
 * nothing in its log says why: a zombie that a change of the members keeps failing to bring in.
 *
 * <p><b>Guarantees.</b> Within about {@link #EVERY} of the division closing, while the node has not
 * begun to stop, this logs one line that says why (from the members the division's log records)
 * and hands it on. A node that this watch saw among the members and whose log no longer counts it
 * (or, for a follower removed while behind, whom another member no longer counts) was removed ({@code holdfast members remove}): one INFO line, handed to the node's removal path,
 * which {@code holdfast server} ends with exit code 0 (a supervisor must not restart it: it would
 * be refused). Otherwise one ERROR line, handed to the node's fatal path, which {@code holdfast
 * server} ends with exit code 71. It fires once. A node that is stopping closes this first, so an
 * ordinary stop is never taken for a failure.
 *
 * <p><b>Does not guarantee</b> the exact cause: Ratis does not report it, so the line names what
 * the members recorded show (not among them: removed, or an addition that did not take) and
 * otherwise points at Ratis's own log. It does not reopen the division.
 *
 * <p>A removal: {@code members remove n1} on n1, the leader. n1 commits the configuration without
 * itself, Ratis closes its division, and n1 logs "Node n1 was removed from the cluster (the members
 * are now n2, n3) and stops; to take it back, empty its data directory, start it and add it with
 * holdfast members add (docs/operations.md)" and exits 0.
 *
 * <p>Failure story: n4 is being added when the leader is killed; n4's log, received from that
 * leader, does not count it yet; n4 stands for election and Ratis closes its division. Within a
 * fifth of a second n4 logs "node n4 stops: Ratis closed its Raft division because the log it
 * holds does not count it among the members (n1, n2, n3) ..." and the process exits 71; its
 * supervisor restarts it, and the operator empties its data directory and adds it again.
 */
public final class DivisionWatch implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DivisionWatch.class);
    /** How often the division's state is read. */
    static final Duration EVERY = Duration.ofMillis(200);

    private final RaftServer raft;
    private final RaftGroupId group;
    private final String nodeId;
    private final Consumer<String> stop;
    private final Consumer<String> removed;
    private final Parameters parameters;
    private final BooleanSupplier stopping;
    /** Whether the division's configuration counted this node while it ran: only then is it "removed". */
    private volatile boolean wasMember;

    private final AtomicBoolean fired = new AtomicBoolean();
    private final ScheduledExecutorService timer;

    private DivisionWatch(
            RaftServer raft,
            RaftGroupId group,
            String nodeId,
            Parameters parameters,
            Consumer<String> stop,
            Consumer<String> removed,
            BooleanSupplier stopping) {
        this.raft = raft;
        this.group = group;
        this.nodeId = nodeId;
        this.parameters = parameters;
        this.stop = stop;
        this.removed = removed;
        this.stopping = stopping;
        this.timer =
                Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("holdfast-division-watch-" + nodeId));
    }

    /**
     * Starts watching the division of {@code group}.
     *
     * @param parameters the node's Ratis parameters, to ask the other members (TLS)
     * @param stop the node's fatal path, given the one-line reason
     * @param removed the node's path when it was removed from the members, given the one INFO line
     * @param stopping whether the node already stops for a reason of its own (then nothing is said)
     */
    public static DivisionWatch start(
            RaftServer raft,
            RaftGroupId group,
            String nodeId,
            Parameters parameters,
            Consumer<String> stop,
            Consumer<String> removed,
            BooleanSupplier stopping) {
        DivisionWatch watch = new DivisionWatch(raft, group, nodeId, parameters, stop, removed, stopping);
        watch.timer.scheduleWithFixedDelay(watch::check, EVERY.toMillis(), EVERY.toMillis(), TimeUnit.MILLISECONDS);
        return watch;
    }

    private void check() {
        String reason;
        String removal = null;
        try {
            RaftServer.Division division = raft.getDivision(group);
            LifeCycle.State state = division.getInfo().getLifeCycleState();
            RaftConfiguration conf = division.getRaftConf();
            if (!state.isClosingOrClosed() && state != LifeCycle.State.EXCEPTION) {
                if (state == LifeCycle.State.RUNNING && members(conf).contains(nodeId)) {
                    wasMember = true;
                }
                return;
            }
            reason = reason(nodeId, state, conf);
            if (wasMember) {
                removal =
                        members(conf).contains(nodeId) ? removalSeenByPeers(division) : removal(nodeId, members(conf));
            }
        } catch (IOException | RuntimeException e) {
            reason = "node " + nodeId + " stops: its Raft division is gone (" + Causes.rootMessage(e)
                    + "); start it again";
        }
        if (stopping.getAsBoolean() || timer.isShutdown() || !fired.compareAndSet(false, true)) {
            return;
        }
        if (removal != null) {
            LOG.info(removal);
            removed.accept(removal);
        } else {
            LOG.error(reason);
            stop.accept(reason);
        }
        timer.shutdown();
    }

    /** The voters and learners {@code conf} counts. */
    public static TreeSet<String> members(RaftConfiguration conf) {
        TreeSet<String> members = new TreeSet<>();
        for (RaftPeerRole role : List.of(RaftPeerRole.FOLLOWER, RaftPeerRole.LISTENER)) {
            conf.getAllPeers(role).forEach(p -> members.add(p.getId().toString()));
        }
        return members;
    }

    /**
     * A follower removed while it was behind (or whose last appends were lost) closes with a log
     * that still counts it: Ratis closes it when the voters it asks for votes tell it that it is not
     * in their configuration. The other members then say whether it was removed: the removal line
     * if one of them counts members without this node, else null.
     */
    private String removalSeenByPeers(RaftServer.Division division) {
        RaftPeerId self = RaftPeerId.valueOf(nodeId);
        for (RaftPeer peer : division.getGroup().getPeers()) {
            if (peer.getId().equals(self)) {
                continue;
            }
            try {
                Set<String> members = PeerViews.ask(peer, self, division.getGroup(), parameters, PeerViews.TIMEOUT)
                        .members();
                if (members != null && !members.isEmpty() && !members.contains(nodeId)) {
                    return removal(nodeId, new TreeSet<>(members));
                }
            } catch (IOException | RuntimeException e) {
                // this peer does not answer: ask the next
            }
        }
        return null;
    }

    /** The one INFO line of a node that was a member and was removed. */
    static String removal(String nodeId, Set<String> members) {
        return "Node " + nodeId + " was removed from the cluster (the members are now "
                + String.join(", ", new TreeSet<>(members)) + ") and stops; to take it back, empty its data"
                + " directory, start it and add it with holdfast members add (docs/operations.md)";
    }

    /** The one line for a division found in {@code state}, from the members its log records. */
    static String reason(String nodeId, LifeCycle.State state, RaftConfiguration conf) {
        TreeSet<String> members = members(conf);
        if (!members.contains(nodeId)) {
            return "node " + nodeId + " stops: Ratis closed its Raft division because the log it holds does not count"
                    + " it among the members (" + String.join(", ", members) + "): it was removed, or was being added"
                    + " when the leader changed and the addition did not take; empty its data directory, start it"
                    + " and add it again with holdfast members add (docs/operations.md)";
        }
        return "node " + nodeId + " stops: Ratis closed its Raft division (state " + state + ") though its log counts"
                + " it among the members (" + String.join(", ", members) + "); Ratis's log says why; start it"
                + " again (docs/operations.md)";
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
