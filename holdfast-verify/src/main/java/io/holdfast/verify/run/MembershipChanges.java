package io.holdfast.verify.run;

import static io.holdfast.verify.history.FaultAction.ADD_MEMBER;
import static io.holdfast.verify.history.FaultAction.KILL;
import static io.holdfast.verify.history.FaultAction.PROMOTE;
import static io.holdfast.verify.history.FaultAction.REJOIN_EMPTY;
import static io.holdfast.verify.history.FaultAction.REMOVE_MEMBER;

import io.holdfast.verify.history.History;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * What a nemesis can do to the members of a run ({@link Faults#membership()}): lose a member's disk
 * and start it again under its old id, add a spare (as a learner or a voter, or interrupted by the
 * leader's death), promote a learner, remove a member. Each change is recorded as a {@link
 * io.holdfast.verify.history.Fault} line with the answer of the node that was asked, and a refused
 * or failed change is recorded, not thrown: the run goes on. {@link Faults#healAll()} does not undo
 * a change of the members; a slot that ends up no member is stopped, so that it is a spare again.
 */
final class MembershipChanges {
    private final Nodes nodes;
    private final Faults faults;
    private final History.Writer out;

    MembershipChanges(Nodes nodes, Faults faults, History.Writer out) {
        this.nodes = nodes;
        this.faults = faults;
        this.out = out;
    }

    /**
     * A member's disk is lost: SIGKILL it, delete its data directory, and start it again under its
     * old id, as an operator who does not know better would. A correct server refuses; returns
     * whether it started anyway. Recorded with the node's answer.
     */
    boolean rejoinEmpty(String node) throws IOException, InterruptedException {
        faults.record(KILL, node, faults.leaderNote("disk lost", node));
        nodes.kill(node);
        nodes.wipe(node);
        String line = nodes.startOrRefused(node, StartLimits.RESTART);
        boolean started = line.startsWith("READY");
        faults.record(
                REJOIN_EMPTY,
                node,
                started
                        ? "started with an empty log"
                        : "refused: " + line.substring(6).trim());
        return started;
    }

    /** The node slots that are not members: spares to add. */
    List<String> spares() {
        return nodes.spares();
    }

    /**
     * Starts a spare with an empty data directory (as a new machine) and has the leader add it,
     * as a learner or a voter; recorded with the leader's answer. When the addition fails the
     * spare is stopped again. Returns whether it is a member now.
     */
    boolean add(String spare, boolean learner) throws IOException, InterruptedException {
        nodes.wipe(spare);
        nodes.start(spare, StartLimits.RESTART);
        String leader = faults.leader();
        String answer =
                nodes.changeMembers(leader, "add " + spare + "=" + nodes.address(spare) + (learner ? " learner" : ""));
        faults.record(
                ADD_MEMBER,
                spare,
                (learner ? "as a learner" : "as a voter") + " via " + leader + ": " + answer.toLowerCase(Locale.ROOT));
        boolean member = nodes.ids().contains(spare);
        if (!member) {
            nodes.kill(spare);
        }
        return member;
    }

    /**
     * Adds a spare through the leader and SIGKILLs the leader {@code delay} after asking, then
     * retries through the next leader with no other step ({@link InterruptedAdd}); the old leader is
     * started again before the retries or after them. Returns whether the spare is a member now.
     */
    boolean interruptAdd(String spare, boolean learner, Duration delay, boolean restartFirst)
            throws IOException, InterruptedException {
        return new InterruptedAdd(nodes, faults, out).run(spare, learner, delay, restartFirst);
    }

    /** Has the leader make a learner a voter; recorded with its answer. */
    void promote(String learner) throws IOException, InterruptedException {
        String[] via = new String[1];
        String answer = change("promote " + learner, via);
        String leader = via[0];
        faults.record(PROMOTE, learner, "via " + leader + ": " + answer.toLowerCase(Locale.ROOT));
    }

    /**
     * Has the leader remove a member (the leader itself, possibly); recorded with its answer. Once
     * it is no member, the node is stopped and its data directory deleted: the slot is a spare
     * again. Returns whether it was removed.
     */
    boolean remove(String member) throws IOException, InterruptedException {
        String[] via = new String[1];
        String answer = change("remove " + member, via);
        String leader = via[0];
        faults.record(REMOVE_MEMBER, member, "via " + leader + ": " + answer.toLowerCase(Locale.ROOT));
        if (member.equals(leader)) {
            nodes.relearnMembers(faults.leader()); // the one that leads now
        }
        boolean removed = !nodes.ids().contains(member);
        if (removed) {
            nodes.kill(member);
            nodes.wipe(member);
        }
        return removed;
    }

    /**
     * Asks the leader for a change of the members; asks the next leader again (three times at
     * most) when the one asked no longer leads, or leads but does not serve yet. {@code via[0]} is set
     * to the node that answered.
     */
    private String change(String change, String[] via) throws IOException, InterruptedException {
        String answer = "";
        for (int attempt = 0; attempt < 3; attempt++) {
            via[0] = faults.leader();
            try {
                answer = nodes.changeMembers(via[0], change);
            } catch (IOException e) { // it exited: a leader that removed itself stops (exit 0)
                answer = "no answer: " + e.getMessage();
                nodes.relearnMembers(faults.leader());
                break;
            }
            if (!answer.contains("is not the leader")
                    && !answer.contains("does not lead")
                    && !answer.contains("does not serve yet")) {
                break;
            }
            Thread.sleep(300);
        }
        return answer;
    }
}
