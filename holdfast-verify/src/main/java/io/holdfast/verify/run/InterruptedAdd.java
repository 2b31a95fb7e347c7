package io.holdfast.verify.run;

import io.holdfast.verify.history.AddRetried;
import io.holdfast.verify.history.FaultAction;
import io.holdfast.verify.history.History;
import java.io.IOException;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

/**
 * An addition of a member interrupted by the leader's death, and its retry as an operator (or a
 * script) makes it: start the new node with an empty data directory, ask the leader to add it, SIGKILL
 * the leader a chosen delay later (before the new node has heard of the change, while it is being
 * staged, or after the change was committed), wait for another node to lead, and ask the new leader
 * for the same addition until the node is a member. The old leader is started again before the
 * retries or after them. One {@link AddRetried} record says how it ended, for the {@code
 * interrupted-add} checker.
 *
 * <p><b>Guarantees.</b> Exactly one {@link AddRetried} per call, once the kill was made; the harness
 * takes no other step (it never restarts the new node, never hands the leadership over): whatever
 * makes the retry succeed is the server's doing. It waits up to {@link #WAIT} after the election, a
 * little more than the checker's limit, so that a slow completion is recorded as slow.
 *
 * <p><b>Not guaranteed:</b> that a given delay hits a given phase of the change; the delays are
 * drawn so that, over runs, every phase is hit. Failure story: the new node stood for election when
 * the leader died, found that the log it had received does not count it and closed its Raft
 * division; its process goes on (or stops), and every retry fails with NOPROGRESS until the harness
 * gives up and records the last answer.
 */
final class InterruptedAdd {
    /** How long after the election the harness goes on retrying. */
    static final Duration WAIT = Duration.ofSeconds(65);

    /** Between two retries that failed. */
    private static final Duration PAUSE = Duration.ofMillis(500);

    private final Nodes nodes;
    private final Faults faults;
    private final History.Writer out;

    InterruptedAdd(Nodes nodes, Faults faults, History.Writer out) {
        this.nodes = nodes;
        this.faults = faults;
        this.out = out;
    }

    /**
     * Adds {@code spare} (as a learner or a voter) through the leader, kills the leader {@code delay}
     * after asking, and retries through the next leader; restarts the old leader before the retries
     * when {@code restartFirst}, after them otherwise. Returns whether the spare is a member now; a
     * spare that is not is killed.
     */
    boolean run(String spare, boolean learner, Duration delay, boolean restartFirst)
            throws IOException, InterruptedException {
        nodes.wipe(spare);
        faults.start(spare);
        String leader = faults.leader();
        String change = "add " + spare + "=" + nodes.address(spare) + (learner ? " learner" : "");
        faults.record(
                FaultAction.ADD_MEMBER,
                spare,
                (learner ? "as a learner" : "as a voter") + " via " + leader + ", which is killed " + delay.toMillis()
                        + " ms later");
        nodes.requestChange(leader, change);
        Thread.sleep(delay.toMillis());
        long killed = faults.record(
                FaultAction.KILL, leader, "leader, " + delay.toMillis() + " ms into the addition of " + spare);
        nodes.kill(leader);

        long elected = awaitLeaderOtherThan(leader, killed + WAIT.toNanos());
        if (elected < 0) {
            out.append(new AddRetried(System.nanoTime(), spare, killed, leader, -1, 0, false, "no leader"));
            faults.start(leader);
            nodes.kill(spare);
            return false;
        }
        if (restartFirst) {
            faults.start(leader);
        }
        long deadline = elected + WAIT.toNanos();
        int retries = 0;
        String answer = "";
        boolean member = false;
        while (true) {
            try {
                String via = faults.leader();
                nodes.relearnMembers(via);
                member = nodes.ids().contains(spare);
                if (member || System.nanoTime() >= deadline) {
                    if (member && retries == 0) {
                        answer = "a member already, as the next leader " + via + " says";
                    }
                    break;
                }
                retries++;
                answer = nodes.changeMembers(via, change).toLowerCase(Locale.ROOT);
            } catch (IOException e) { // no leader for a while, or it died under the request
                answer = "not asked: " + e.getMessage();
                if (System.nanoTime() >= deadline) {
                    break;
                }
            }
            if (!nodes.ids().contains(spare)) {
                Thread.sleep(PAUSE.toMillis());
            }
        }
        out.append(new AddRetried(System.nanoTime(), spare, killed, leader, elected, retries, member, answer));
        if (!restartFirst) {
            faults.start(leader);
        }
        if (!member) {
            nodes.kill(spare);
        }
        return member;
    }

    /** When a node other than {@code dead} was first seen leading, or -1 if none by {@code deadline}. */
    private long awaitLeaderOtherThan(String dead, long deadline) throws InterruptedException {
        while (System.nanoTime() < deadline) {
            Optional<String> l = nodes.leader();
            if (l.isPresent() && !l.get().equals(dead)) {
                return System.nanoTime();
            }
            Thread.sleep(50);
        }
        return -1;
    }
}
