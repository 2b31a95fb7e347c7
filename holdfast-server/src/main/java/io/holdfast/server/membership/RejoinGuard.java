package io.holdfast.server.membership;

import io.holdfast.Ticker;
import io.holdfast.internal.Causes;
import io.holdfast.server.config.RaftSettings;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.config.StartupException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a node from joining its cluster as something the cluster does not take it for, by asking
 * the other members before Ratis starts:
 *
 * <ul>
 *   <li>A node whose data directory is empty is refused while a peer's current members include its
 *       id and that peer has heard a commit index from it: a member whose disk was lost or wiped,
 *       restarted under its old id.
 *   <li>A node whose data directory records it as a member is refused when a peer has committed
 *       past that record and its current members no longer include the node: it was removed (and
 *       may not have heard of it, having been stopped just then). The record is the configuration
 *       it last applied ({@code raft-meta.conf}), or, when it applied none (a follower that lagged
 *       from its first start), the newest entry of its log that counts it.
 * </ul>
 *
 * <p>It also tells a new member from a member of a cluster being formed: a node with an empty data
 * directory that the members answering run without starts with no members of its own, so that it stands
 * for no election before it is added ({@link #check}).
 *
 * <p><b>Why the first.</b> Such a node has forgotten every entry it acknowledged, and
 * acknowledgements are what made entries committed. As a voter with an empty log it votes for any
 * candidate, including one that lacks an entry the cluster committed with this node's help; that
 * candidate wins, and the committed entry (a grant, a fencing token) is gone: two holders of one
 * lock. Raft's safety assumes that a voter's log survives; this guard turns the broken assumption
 * into a refusal. Once the member is removed ({@code holdfast members remove}), its id is free: an
 * empty node under it starts as a new member, to be added again.
 *
 * <p><b>Why the second.</b> A removed node that starts again would only ask the members for votes
 * they refuse, forever, and an operator reading its log would not learn why; etcd stops such a
 * member with "the member has been permanently removed from the cluster", and so does this guard.
 *
 * <p><b>How.</b> Each other member (those of {@code --peers} for an empty directory, those the
 * data directory records otherwise) is asked, all at once, for its group information (Ratis's admin
 * call on the Raft port, {@link PeerViews#TIMEOUT} each): its current configuration, its commit index, and
 * the commit index it last heard from every member. The peers that are up but slow are asked
 * again, for up to {@link PeerViews#PATIENCE}, until one tells the members ({@link
 * PeerViews#askPatiently}).
 *
 * <p><b>Not guaranteed.</b> The peers' memory of commit indexes is Ratis's, not durable: a peer that
 * restarted since this node was last heard from does not remember it, and a peer that cannot be
 * reached says nothing. The guard then lets the node start, as etcd does when its peers cannot
 * tell it that the member was bootstrapped already. A brand-new member (never started) is never
 * refused: no peer has heard a commit index from it.
 *
 * <p><b>No way around it.</b> There is no option to start such a node anyway: besides the risk
 * above, Ratis 3.3 does not bring an emptied member back. Its leader keeps the match index it had
 * for the member and does not go below it when the empty follower answers "inconsistent, next
 * index 0", so the node stays empty for as long as that leader leads (seen in this guard's test
 * before the option was dropped). A member whose data is lost is replaced, not restarted: see
 * docs/operations.md.
 *
 * <p><b>One failure story.</b> A disk dies on n3 of a three-node cluster; the operator replaces it
 * and runs the same {@code holdfast server --id n3 ...}. n1 reports n3's commit index 1,204; n3
 * stops with exit 71 and one line: "node n3 has an empty data directory ... but n1 knows it as a
 * member that ran (commit index 1204) ...". The two others go on serving. The operator runs
 * {@code holdfast members remove n3}; the same command now starts n3 as a new member, and {@code
 * holdfast members add --learner n3=...} brings it in.
 */
public final class RejoinGuard {
    private static final Logger LOG = LoggerFactory.getLogger(RejoinGuard.class);

    private RejoinGuard() {}

    /**
     * Checks this node before its Raft server is built, and says which group Ratis starts with.
     *
     * <p>That is {@code group}, except for a node with an empty data directory that the members
     * answering run without (a new member, started before {@code holdfast members add}): it starts
     * with the group and no members (Ratis refuses a list without itself), which the leader's log
     * fills in. Ratis then starts it "initializing": it takes appends and a
     * snapshot from a leader, but runs no election timer until a leader replicates to it as a
     * member. Started with itself in its group, it would time out waiting for a leader (before the
     * add, or when the leader that was bringing it in stops), stand for election, find that the log
     * it received does not count it, and close its Raft division for good: Ratis's {@code
     * LeaderElection} shuts a candidate down on {@code NOT_IN_CONF}, and a leader tells a candidate
     * it does not count to shut down. Every later add of it then fails with NOPROGRESS.
     *
     * @param group the group of {@code --peers}
     * @param groupDir this node's Ratis storage directory for the group
     * @return the group to build the Raft server with
     * @throws StartupException when the node must not start, in one line
     */
    public static RaftGroup check(
            ServerConfig config, RaftGroup group, Path groupDir, Parameters parameters, Ticker ticker)
            throws StartupException {
        if (hasData(groupDir)) {
            Optional<RecordedMembers.Recorded> recorded = RecordedMembers.read(groupDir);
            if (recorded.isEmpty()) {
                recorded = RecordedMembers.lastCountingInLog(groupDir, config.nodeId());
            }
            if (recorded.isPresent()) {
                checkStillMember(config, recorded.get(), parameters, ticker);
            }
        } else if (group.getPeers().size() >= 2) {
            return checkNotLost(config, group, parameters, ticker);
        }
        return group;
    }

    private static RaftGroup checkNotLost(ServerConfig config, RaftGroup group, Parameters parameters, Ticker ticker)
            throws StartupException {
        List<String> silent = new ArrayList<>();
        List<PeerViews.PeerView> views = new ArrayList<>();
        for (Map.Entry<String, Object> answer :
                PeerViews.askPatiently(config, group, parameters, false, ticker).entrySet()) {
            if (answer.getValue() instanceof PeerViews.PeerView view) {
                views.add(view);
            } else {
                silent.add(answer.getKey() + " (" + answer.getValue() + ")");
            }
        }
        Optional<String> refusal = lostDataRefusal(config.nodeId(), config.dataDir(), views);
        if (refusal.isPresent()) {
            throw new StartupException(refusal.get(), null);
        }
        Optional<PeerViews.PeerView> runsWithout = awaitsAddition(config.nodeId(), views);
        if (runsWithout.isPresent()) {
            LOG.info(
                    "Node {} has no data yet and {} counts the members {} without it: it starts as a new member that"
                            + " waits for holdfast members add, and stands for no election until it is added",
                    config.nodeId(),
                    runsWithout.get().id(),
                    String.join(", ", new TreeSet<>(runsWithout.get().members())));
            return RaftGroup.valueOf(group.getGroupId());
        }
        LOG.info(
                "Node {} has no data yet and no peer counts it as a member that ran{}: starting as a new member",
                config.nodeId(),
                silent.isEmpty() ? "" : " (not answering: " + String.join(", ", silent) + ")");
        return group;
    }

    /**
     * The answer that shows a node with an empty data directory to be a new member not added yet:
     * some peer reports its members and none of the peers reporting members counts the node.
     */
    public static Optional<PeerViews.PeerView> awaitsAddition(String nodeId, List<PeerViews.PeerView> views) {
        Optional<PeerViews.PeerView> without = Optional.empty();
        for (PeerViews.PeerView view : views) {
            if (view.members() == null || view.members().isEmpty()) {
                continue;
            }
            if (view.members().contains(nodeId)) {
                return Optional.empty();
            }
            if (without.isEmpty()) {
                without = Optional.of(view);
            }
        }
        return without;
    }

    /**
     * The refusal of a node with an empty data directory, if a peer still counts it among its
     * members and has heard a commit index from it (a peer that does not report its members is
     * taken to count it).
     */
    public static Optional<String> lostDataRefusal(String nodeId, Path dataDir, List<PeerViews.PeerView> views) {
        for (PeerViews.PeerView view : views) {
            boolean counted = view.members() == null || view.members().contains(nodeId);
            if (counted && view.heardFromSelf() > 0) {
                return Optional.of("node " + nodeId + " has an empty data directory (" + dataDir + ") but "
                        + view.id() + " knows it as a member that ran (commit index " + view.heardFromSelf()
                        + "): a member that lost its data must not rejoin under its old id (as a voter with"
                        + " an empty log it could elect a leader that lacks entries it acknowledged); restore"
                        + " its data directory, or replace the member (docs/operations.md)");
            }
        }
        return Optional.empty();
    }

    private static void checkStillMember(
            ServerConfig config, RecordedMembers.Recorded recorded, Parameters parameters, Ticker ticker)
            throws StartupException {
        List<RaftPeer> peers = new ArrayList<>();
        recorded.members()
                .forEach((id, address) -> peers.add(
                        RaftPeer.newBuilder().setId(id).setAddress(address).build()));
        if (peers.size() < 2) {
            return;
        }
        RaftGroup group = RaftGroup.valueOf(RaftSettings.GROUP_ID, peers);
        List<PeerViews.PeerView> views = new ArrayList<>();
        for (Object answer :
                PeerViews.askPatiently(config, group, parameters, true, ticker).values()) {
            if (answer instanceof PeerViews.PeerView view) {
                views.add(view);
            }
        }
        Optional<String> refusal = removedRefusal(config.nodeId(), config.dataDir(), recorded.index(), views);
        if (refusal.isPresent()) {
            throw new StartupException(refusal.get(), null);
        }
    }

    /**
     * The refusal of a node whose data directory records it as a member (at log index {@code
     * recordedIndex}), if a peer has committed past that record and no longer counts it: a change
     * of the members made after the record removed it.
     */
    public static Optional<String> removedRefusal(
            String nodeId, Path dataDir, long recordedIndex, List<PeerViews.PeerView> views) {
        for (PeerViews.PeerView view : views) {
            if (view.members() != null
                    && !view.members().isEmpty()
                    && !view.members().contains(nodeId)
                    && view.committed() > recordedIndex) {
                return Optional.of("node " + nodeId + " was removed from its cluster: " + view.id()
                        + " has committed past the members recorded in " + dataDir + " (index " + recordedIndex
                        + ") and counts " + String.join(", ", new TreeSet<>(view.members())) + " (commit index "
                        + view.committed() + "); leave it stopped, or empty its data directory and add it again"
                        + " with holdfast members add (docs/operations.md)");
            }
        }
        return Optional.empty();
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
            throw new StartupException("cannot read the Raft storage " + current + ": " + Causes.rootMessage(e), e);
        }
    }
}
