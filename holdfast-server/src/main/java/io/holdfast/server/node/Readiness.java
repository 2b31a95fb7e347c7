package io.holdfast.server.node;

import io.holdfast.server.membership.DivisionWatch;
import java.util.TreeSet;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.util.LifeCycle;

/**
 * Whether a node serves, as {@code GET /ready} (and {@code holdfast health --ready}) reports it: its
 * Raft division runs (Ratis refuses every request to a division in any other state) and it knows
 * the leader, to which it sends whatever it does not answer itself.
 *
 * <p><b>Guarantees.</b> Not ready, with one line that names the reason, while: Ratis has not
 * started the division ({@code STARTING}: a new node that the members do not count yet, a learner
 * Ratis's leader still treats as catching up, which lasts until it is promoted, or a voter in the
 * same state until the leader changes); the division is paused, closing or closed; or no leader is
 * known. A learner that runs is ready: it sends requests to the leader as a follower does.
 *
 * <p><b>Does not guarantee</b> that the leader answers: a node that knows a leader cut off from the
 * majority is ready until it learns otherwise (an election timeout at most).
 */
public final class Readiness {
    private Readiness() {}

    /** Why node {@code self} does not serve, in one line, or null when it does. */
    public static String whyNotReady(String self, RaftServer.Division division) {
        var info = division.getInfo();
        LifeCycle.State state = info.getLifeCycleState();
        if (state == LifeCycle.State.STARTING) {
            return notStarted(self, division.getRaftConf());
        }
        if (state != LifeCycle.State.RUNNING) {
            return self + "'s Raft division is " + state + ": it serves nothing";
        }
        if (info.getLeaderId() == null) {
            return self + " knows no leader: an election is under way, or no majority of the members is reachable";
        }
        return null;
    }

    private static String notStarted(String self, RaftConfiguration conf) {
        RaftPeerId id = RaftPeerId.valueOf(self);
        if (conf.getPeer(id, RaftPeerRole.LISTENER) != null) {
            return self + " is a learner that Ratis has not started (STARTING): it receives the log, but Ratis refuses"
                    + " it every request until it is promoted (holdfast members promote " + self + ")";
        }
        if (conf.getPeer(id, RaftPeerRole.FOLLOWER) != null) {
            return self + " is a voter that Ratis has not started (STARTING): the leader still treats it as catching"
                    + " up, until the leadership changes (holdfast members transfer-leader)";
        }
        TreeSet<String> members = DivisionWatch.members(conf);
        return self + " is not a member: the members recorded here are "
                + (members.isEmpty() ? "none (a new node)" : String.join(", ", members))
                + "; it serves once added (holdfast members add)";
    }
}
