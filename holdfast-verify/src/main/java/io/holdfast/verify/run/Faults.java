package io.holdfast.verify.run;

import static io.holdfast.verify.history.FaultAction.CUT;
import static io.holdfast.verify.history.FaultAction.DELAY;
import static io.holdfast.verify.history.FaultAction.HEAL;
import static io.holdfast.verify.history.FaultAction.ISOLATE;
import static io.holdfast.verify.history.FaultAction.KILL;
import static io.holdfast.verify.history.FaultAction.ONE_WAY;
import static io.holdfast.verify.history.FaultAction.PARTITION;
import static io.holdfast.verify.history.FaultAction.PAUSE;
import static io.holdfast.verify.history.FaultAction.RESUME;
import static io.holdfast.verify.history.FaultAction.SNAPSHOT;
import static io.holdfast.verify.history.FaultAction.START;
import static io.holdfast.verify.history.FaultAction.STOP;
import static io.holdfast.verify.history.FaultAction.TRANSFER_LEADER;

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
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * What a nemesis can do to a run, each action recorded as a {@link Fault} line: kill, pause and
 * restart nodes; pause clients; cut, partition and heal links. {@link #healAll()} undoes every
 * fault: paused processes resume, killed nodes restart, links pass again. Each action sits beside
 * its undoing here, so that healAll stays their exact inverse. The members' changes ({@link
 * #membership()}) and the cues that put a client where a fault bites ({@link #clientCues()}) live
 * in files of their own and record their lines through {@link #record}.
 */
final class Faults {
    /** How long the planted {@code slow-failover} holds the clients off after a leader's SIGKILL. */
    static final Duration PLANTED_FAILOVER_DELAY = Duration.ofSeconds(20);

    private final Nodes nodes;
    private final Workers workers;
    private final Network network;
    private final History.Writer out;
    private final long until;
    private final boolean slowFailover;
    private final MembershipChanges membership;
    private final ClientCues clientCues;
    private int count;
    /** The processes' shiftable wall clocks, or null when the scenario jumps none. */
    private WallClocks clocks;
    /** Each client's home at the start, by client id. */
    private Map<String, String> homes = Map.of();

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
        this.membership = new MembershipChanges(nodes, this, out);
        this.clientCues = new ClientCues(workers, this);
    }

    /** The changes of the members a nemesis can make. */
    MembershipChanges membership() {
        return membership;
    }

    /** The cues that put a client where a fault bites. */
    ClientCues clientCues() {
        return clientCues;
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
        record(KILL, node, detail);
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
                TRANSFER_LEADER,
                leader,
                "to " + (target == null ? "the most up-to-date voter" : target) + ": " + answer);
    }

    /** SIGTERM, as an operator stops a node for maintenance (a leader hands over first). */
    void stop(String node, String why) throws InterruptedException {
        record(STOP, node, leaderNote(why, node));
        nodes.stop(node);
    }

    void start(String node) throws IOException, InterruptedException {
        nodes.start(node, StartLimits.RESTART);
        record(START, node, "");
    }

    /** Has the node take a snapshot now (its log is purged up to it). */
    void snapshot(String node) throws IOException, InterruptedException {
        String answer = nodes.snapshot(node);
        record(SNAPSHOT, node, answer.toLowerCase(java.util.Locale.ROOT));
    }

    /**
     * Moves a node's or a client's wall clock to {@code seconds} from the real one; only for a
     * scenario whose processes were started with shiftable clocks ({@link Scenarios#jumpsClocks}).
     */
    void jumpClock(String process, long seconds) throws IOException {
        if (clocks == null) {
            throw new IOException("this scenario's processes were not started with shiftable wall clocks");
        }
        clocks.shift(process, seconds);
        record(FaultAction.CLOCK_JUMP, process, WallClocks.offset(seconds) + " s");
    }

    /** Where each client started its session (its home, ADR 0003), by client id. */
    void withHomes(Map<String, String> homes) {
        this.homes = Map.copyOf(homes);
    }

    /** The clients that started their sessions on {@code node} (they stay while it serves them). */
    List<String> homedOn(String node) {
        List<String> out = new ArrayList<>();
        homes.forEach((client, home) -> {
            if (home.equals(node)) {
                out.add(client);
            }
        });
        return out;
    }

    /** The shiftable wall clocks of the run's processes ({@link #jumpClock}). */
    void withClocks(WallClocks clocks) {
        this.clocks = clocks;
    }

    void pauseNode(String node, String why) {
        record(PAUSE, node, leaderNote(why, node));
        nodes.pause(node);
    }

    void resumeNode(String node) {
        nodes.resume(node);
        record(RESUME, node, "");
    }

    void pauseClient(String client, String why) {
        workers.pause(client);
        record(PAUSE, client, why);
    }

    void resumeClient(String client) {
        workers.resume(client);
        record(RESUME, client, "");
    }

    void isolate(String node, String why) {
        record(ISOLATE, node, leaderNote(why, node));
        network.isolate(node);
    }

    void partition(Set<String> a, Set<String> b) {
        String leader = nodes.leader().orElse("");
        record(
                PARTITION,
                String.join(",", a) + " | " + String.join(",", b),
                a.contains(leader) ? "leader in the first side" : "");
        network.partition(a, b);
    }

    void oneWay(String from, String to) {
        record(ONE_WAY, from + " -> " + to, "dropped");
        network.oneWay(from, to);
    }

    void cut(String dialer) {
        record(CUT, dialer, "connections closed");
        network.cut(dialer);
    }

    void delay(String from, String to, Duration d) {
        record(DELAY, from + " -> " + to, d.toMillis() + " ms");
        network.delay(from, to, d);
    }

    void healNetwork() {
        network.heal();
        record(HEAL, "network", "");
    }

    /**
     * Heals the network, then measures how long every replica takes to reach the leader's commit
     * index as of the heal ({@link HealCatchUp}, for the {@code heal-catch-up} checker); returns
     * once all have, or {@link HealCatchUp#WAIT} after the heal. No fault is injected meanwhile.
     */
    void healNetworkAndAwaitCatchUp() throws InterruptedException {
        network.heal();
        new HealCatchUp(nodes, out).measure(record(HEAL, "network", ""));
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
                nodes.start(n, StartLimits.RESTART);
            }
        }
        record(HEAL, "all", "");
    }

    /** The fault's detail, saying "(was leader)" when it hits the current leader (the summary counts those). */
    String leaderNote(String why, String node) {
        boolean leader = node.equals(nodes.leader().orElse(null));
        return leader && !why.contains("leader") ? why + " (was leader)" : why;
    }
}
