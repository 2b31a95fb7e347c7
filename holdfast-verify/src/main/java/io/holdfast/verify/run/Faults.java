// Ceiling 490 lines, one idea: what a nemesis can do to a run, each action and its undoing side by
// side so that healAll stays the exact inverse.
package io.holdfast.verify.run;

import io.holdfast.verify.history.Fault;
import io.holdfast.verify.history.FaultAction;
import io.holdfast.verify.history.History;
import io.holdfast.verify.net.Network;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * What a nemesis can do to a run, each action recorded as a {@link Fault} line: kill, pause and
 * restart nodes; pause clients; cut, partition and heal links. {@link #healAll()} undoes every
 * fault: paused processes resume, killed nodes restart, links pass again.
 */
final class Faults {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    /** How long the planted {@code slow-failover} holds the clients off after a leader's SIGKILL. */
    static final Duration PLANTED_FAILOVER_DELAY = Duration.ofSeconds(20);

    private final Nodes nodes;
    private final Workers workers;
    private final Network network;
    private final History.Writer out;
    private final long until;
    private final boolean slowFailover;
    private int count;

    /**
     * @param slowFailover the planted bug {@code slow-failover}: after each SIGKILL of the leader,
     *     every client is cut off from every node for {@link #PLANTED_FAILOVER_DELAY}, unrecorded
     */
    Faults(Nodes nodes, Workers workers, Network network, History.Writer out, long untilNanos, boolean slowFailover) {
        this.nodes = nodes;
        this.workers = workers;
        this.network = network;
        this.out = out;
        this.until = untilNanos;
        this.slowFailover = slowFailover;
    }

    /** True while the faulted part of the run lasts. */
    boolean running() {
        return System.nanoTime() < until;
    }

    /** Sleeps up to {@code d}, less if the faulted part ends first; false once it has ended. */
    boolean sleep(Duration d) throws InterruptedException {
        long left = until - System.nanoTime();
        if (left <= 0) {
            return false;
        }
        Thread.sleep(Math.max(1, Math.min(d.toMillis(), left / 1_000_000)));
        return running();
    }

    /**
     * Sleeps the whole of {@code d} even past the end of the faulted part: for faults that only
     * mean something when they last long enough (a pause past the TTL).
     */
    void sleepFully(Duration d) throws InterruptedException {
        Thread.sleep(Math.max(0, d.toMillis()));
    }

    /** A random duration in [min, max]. */
    static Duration between(Random r, Duration min, Duration max) {
        return min.plusMillis((long) (r.nextDouble() * (max.toMillis() - min.toMillis())));
    }

    int count() {
        return count;
    }

    /** Records a fault now; returns its time. */
    long record(FaultAction action, String target, String detail) {
        count++;
        long now = System.nanoTime();
        out.append(new Fault(now, action, target, detail));
        return now;
    }

    List<String> nodeIds() {
        return nodes.ids();
    }

    /** The nodes, for what only observes them ({@link CatchUpNotes}). */
    Nodes nodes() {
        return nodes;
    }

    List<String> clientIds() {
        return workers.ids();
    }

    /** The current leader, waiting a little for one. */
    String leader() throws IOException, InterruptedException {
        return nodes.awaitLeader(Duration.ofSeconds(30));
    }

    List<String> followers(String leader) {
        List<String> f = new ArrayList<>(nodes.ids());
        f.remove(leader);
        return f;
    }

    void kill(String node, String why) throws InterruptedException {
        String detail = leaderNote(why, node);
        record(FaultAction.KILL, node, detail);
        nodes.kill(node);
        if (slowFailover && (detail.startsWith("leader") || detail.contains("(was leader)"))) {
            // unrecorded: to the history, the service itself is silent
            network.partition(new HashSet<>(workers.ids()), new HashSet<>(nodes.ids()));
            Thread.sleep(PLANTED_FAILOVER_DELAY.toMillis());
            network.heal();
        }
    }

    /**
     * Has the leader hand its leadership to {@code target} (null: the most up-to-date voter) through
     * the admin call; recorded with the node's answer. A refused or timed-out transfer is recorded,
     * not thrown: the run goes on.
     */
    void transferLeader(String leader, String target) throws InterruptedException {
        String answer;
        try {
            answer = nodes.transferLeader(leader, target).toLowerCase(java.util.Locale.ROOT);
        } catch (IOException e) {
            answer = "not asked: " + e.getMessage();
        }
        record(
                FaultAction.TRANSFER_LEADER,
                leader,
                "to " + (target == null ? "the most up-to-date voter" : target) + ": " + answer);
    }

    /**
     * A member's disk is lost: SIGKILL it, delete its data directory, and start it again under its
     * old id, as an operator who does not know better would. A correct server refuses; returns
     * whether it started anyway. Recorded with the node's answer.
     */
    boolean rejoinEmpty(String node) throws IOException, InterruptedException {
        record(FaultAction.KILL, node, leaderNote("disk lost", node));
        nodes.kill(node);
        nodes.wipe(node);
        String line = nodes.startOrRefused(node, START_TIMEOUT);
        boolean started = line.startsWith("READY");
        record(
                FaultAction.REJOIN_EMPTY,
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
    boolean addMember(String spare, boolean learner) throws IOException, InterruptedException {
        nodes.wipe(spare);
        nodes.start(spare, START_TIMEOUT);
        String leader = leader();
        String answer =
                nodes.changeMembers(leader, "add " + spare + "=" + nodes.address(spare) + (learner ? " learner" : ""));
        record(
                FaultAction.ADD_MEMBER,
                spare,
                (learner ? "as a learner" : "as a voter") + " via " + leader + ": "
                        + answer.toLowerCase(java.util.Locale.ROOT));
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
        return new InterruptedAdd(nodes, this, out).run(spare, learner, delay, restartFirst);
    }

    /** Has the leader make a learner a voter; recorded with its answer. */
    void promote(String learner) throws IOException, InterruptedException {
        String[] via = new String[1];
        String answer = change("promote " + learner, via);
        String leader = via[0];
        record(FaultAction.PROMOTE, learner, "via " + leader + ": " + answer.toLowerCase(java.util.Locale.ROOT));
    }

    /**
     * Has the leader remove a member (the leader itself, possibly); recorded with its answer. Once
     * it is no member, the node is stopped and its data directory deleted: the slot is a spare
     * again. Returns whether it was removed.
     */
    boolean removeMember(String member) throws IOException, InterruptedException {
        String[] via = new String[1];
        String answer = change("remove " + member, via);
        String leader = via[0];
        record(FaultAction.REMOVE_MEMBER, member, "via " + leader + ": " + answer.toLowerCase(java.util.Locale.ROOT));
        if (member.equals(leader)) {
            nodes.relearnMembers(leader()); // the one that leads now
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
     * most) when the one asked no longer leads. {@code via[0]} is set to the node that answered.
     */
    private String change(String change, String[] via) throws IOException, InterruptedException {
        String answer = "";
        for (int attempt = 0; attempt < 3; attempt++) {
            via[0] = leader();
            try {
                answer = nodes.changeMembers(via[0], change);
            } catch (IOException e) { // it exited: a leader that removed itself stops (exit 0)
                answer = "no answer: " + e.getMessage();
                nodes.relearnMembers(leader());
                break;
            }
            if (!answer.contains("is not the leader") && !answer.contains("does not lead")) {
                break;
            }
            Thread.sleep(300);
        }
        return answer;
    }

    /** SIGTERM, as an operator stops a node for maintenance (a leader hands over first). */
    void stop(String node, String why) throws InterruptedException {
        record(FaultAction.STOP, node, leaderNote(why, node));
        nodes.stop(node);
    }

    void start(String node) throws IOException, InterruptedException {
        nodes.start(node, START_TIMEOUT);
        record(FaultAction.START, node, "");
    }

    /** Has the node take a snapshot now (its log is purged up to it). */
    void snapshot(String node) throws IOException, InterruptedException {
        String answer = nodes.snapshot(node);
        record(FaultAction.SNAPSHOT, node, answer.toLowerCase(java.util.Locale.ROOT));
    }

    void pauseNode(String node, String why) {
        record(FaultAction.PAUSE, node, leaderNote(why, node));
        nodes.pause(node);
    }

    void resumeNode(String node) {
        nodes.resume(node);
        record(FaultAction.RESUME, node, "");
    }

    void pauseClient(String client, String why) {
        workers.pause(client);
        record(FaultAction.PAUSE, client, why);
    }

    /**
     * Asks a random client to linger in its next exclusive critical section (after its ENTER
     * writes, before its EXIT) and returns {client, key} once it is there, or null if none got
     * there in time. Nothing is paused yet.
     */
    String[] clientInCriticalSection(Random r) throws InterruptedException {
        String client = workers.ids().get(r.nextInt(workers.ids().size()));
        try {
            String[] w = workers.ask(client, "hold-next", Duration.ofSeconds(5), "IN-CS")
                    .split("\\s+");
            return new String[] {client, w[1], w[2]};
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Asks a client other than {@code not} to queue on {@code key} and SIGSTOPs it while it waits
     * there. Returns the client, or null if it did not queue in time.
     */
    String pauseClientQueuedOn(Random r, String key, String not) throws InterruptedException {
        List<String> others = new ArrayList<>(workers.ids());
        others.remove(not);
        String client = others.get(r.nextInt(others.size()));
        try {
            workers.ask(client, "wait-next " + key, Duration.ofSeconds(2), "IN-WAIT");
            workers.pause(client);
            record(FaultAction.PAUSE, client, "while queued for " + key);
            return client;
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Asks {@code client} to try the exclusive lock {@code key} now and, if granted, to hold it for
     * {@code hold} (see ClientMain's {@code contend}). Returns its answer ({@code CONTENDED OK
     * <token>} or {@code CONTENDED FAIL <error>}), or null if none came within {@code timeout}.
     */
    String contend(String client, String key, Duration hold, Duration timeout) throws InterruptedException {
        String answer;
        try {
            answer = workers.ask(client, "contend " + key + " " + hold.toMillis(), timeout, "CONTENDED");
        } catch (IOException e) {
            answer = null;
        }
        record(FaultAction.CONTEND, client, key + ": " + (answer == null ? "no answer" : answer));
        return answer;
    }

    private int leadRequests;

    /**
     * Asks every client to linger in its next step of leader work (after deciding to act, before
     * its writes; see ClientMain's {@code lead-next}) and returns {client, election, epoch} of the
     * first that gets there within {@code timeout}, or null. The others are told to go on ({@code
     * lead-cancel}); the one returned lingers until it is paused, or until {@link #letLead}.
     */
    String[] clientLeading(Duration timeout) throws InterruptedException {
        String nonce = Integer.toString(++leadRequests);
        List<String> asked = new ArrayList<>();
        for (String c : workers.ids()) {
            try {
                workers.send(c, "lead-next " + nonce);
                asked.add(c);
            } catch (IOException notRunning) {
                // not asked
            }
        }
        String[] found = null;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (found == null && !asked.isEmpty() && System.nanoTime() < deadline) {
            for (String c : asked) {
                try {
                    String[] w = workers.expect(c, Duration.ofMillis(20), "IN-LEAD " + nonce + " ")
                            .split("\\s+");
                    found = new String[] {c, w[2], w[3]};
                    break;
                } catch (IOException notYet) {
                    // the next one
                }
            }
        }
        for (String c : asked) {
            if (found == null || !c.equals(found[0])) {
                letLead(c);
            }
        }
        return found;
    }

    /** Lets a client that lingers in its leader work (or was asked to) go on at once. */
    void letLead(String client) {
        try {
            workers.send(client, "lead-cancel");
        } catch (IOException notRunning) {
            // nothing lingers there
        }
    }

    void resumeClient(String client) {
        workers.resume(client);
        record(FaultAction.RESUME, client, "");
    }

    void isolate(String node, String why) {
        record(FaultAction.ISOLATE, node, leaderNote(why, node));
        network.isolate(node);
    }

    void partition(Set<String> a, Set<String> b) {
        String leader = nodes.leader().orElse("");
        record(
                FaultAction.PARTITION,
                String.join(",", a) + " | " + String.join(",", b),
                a.contains(leader) ? "leader in the first side" : "");
        network.partition(a, b);
    }

    void oneWay(String from, String to) {
        record(FaultAction.ONE_WAY, from + " -> " + to, "dropped");
        network.oneWay(from, to);
    }

    void cut(String dialer) {
        record(FaultAction.CUT, dialer, "connections closed");
        network.cut(dialer);
    }

    void delay(String from, String to, Duration d) {
        record(FaultAction.DELAY, from + " -> " + to, d.toMillis() + " ms");
        network.delay(from, to, d);
    }

    void healNetwork() {
        network.heal();
        record(FaultAction.HEAL, "network", "");
    }

    /**
     * Heals the network, then measures how long every replica takes to reach the leader's commit
     * index as of the heal ({@link HealCatchUp}, for the {@code heal-catch-up} checker); returns
     * once all have, or {@link HealCatchUp#WAIT} after the heal. No fault is injected meanwhile.
     */
    void healNetworkAndAwaitCatchUp() throws InterruptedException {
        network.heal();
        new HealCatchUp(nodes, out).measure(record(FaultAction.HEAL, "network", ""));
    }

    /**
     * {@code side} plus a random, non-empty part of the clients that leaves at least one client
     * out: both sides of a partition then have clients, so both can be granted locks.
     */
    Set<String> withSomeClients(Set<String> side, Random r) {
        List<String> clients = new ArrayList<>(workers.ids());
        java.util.Collections.shuffle(clients, r);
        int n = 1 + r.nextInt(Math.max(1, clients.size() - 1));
        Set<String> s = new LinkedHashSet<>(side);
        s.addAll(clients.subList(0, Math.min(n, clients.size() - 1)));
        return s;
    }

    /**
     * {@code side} plus every client but one (chosen at random): the old leader keeps most of the
     * clients, which go on asking it for locks while the lone client on the other side is served
     * by the new leader.
     */
    Set<String> withAllClientsButOne(Set<String> side, Random r) {
        List<String> clients = new ArrayList<>(workers.ids());
        clients.remove(r.nextInt(clients.size()));
        Set<String> s = new LinkedHashSet<>(side);
        s.addAll(clients);
        return s;
    }

    Set<String> everyoneBut(Set<String> side) {
        Set<String> rest = new HashSet<>(nodes.ids());
        rest.addAll(workers.ids());
        rest.removeAll(side);
        return rest;
    }

    /** Undoes every fault: links pass, paused processes resume, killed nodes restart. */
    void healAll() throws IOException, InterruptedException {
        network.heal();
        for (String c : workers.ids()) {
            workers.resume(c);
        }
        for (String n : nodes.ids()) {
            nodes.resume(n);
        }
        for (String n : nodes.ids()) {
            if (!nodes.isUp(n)) {
                nodes.start(n, START_TIMEOUT);
            }
        }
        record(FaultAction.HEAL, "all", "");
    }

    /** The fault's detail, saying "(was leader)" when it hits the current leader (the summary counts those). */
    private String leaderNote(String why, String node) {
        boolean leader = node.equals(nodes.leader().orElse(null));
        return leader && !why.contains("leader") ? why + " (was leader)" : why;
    }
}
