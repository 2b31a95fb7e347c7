package io.holdfast.verify.run;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The server nodes of a run, each a {@link NodeMain} JVM: started, killed, paused and restarted by
 * id, with the same data directory across restarts. The leader is found through each node's
 * {@code /status} on its HTTP port ({@link NodeReports}: what the nodes say of themselves).
 */
final class Nodes implements AutoCloseable {
    private static final int SNAPSHOT_EVERY = 400;

    /** One node's fixed layout. */
    record Spec(String id, int raftPort, int clientPort, int httpPort, Path dataDir, Path hostsFile, Path log) {}

    /** What a node said about itself. */
    record Status(String id, String role, String leader, long term, long appliedIndex, long commitIndex) {}

    private final Map<String, Spec> specs = new LinkedHashMap<>();
    private final Map<String, Child> running = new LinkedHashMap<>();
    /** The members of the cluster as the harness last learnt them from the leader; guarded by this. */
    private final Set<String> members = new java.util.LinkedHashSet<>();

    private final List<String> bugs;
    private final Duration electionTimeout;
    /** What the nodes say of themselves over HTTP. */
    private final NodeReports reports;
    /** The nodes' shiftable wall clocks, when the scenario jumps them; else null. */
    private WallClocks clocks;

    /**
     * @param nodes every node slot
     * @param initialMembers how many of the first slots form the cluster at the start; the others
     *     are spares, started only to be added
     */
    Nodes(List<Spec> nodes, int initialMembers, List<String> bugs, Duration electionTimeout) {
        for (Spec s : nodes) {
            specs.put(s.id(), s);
        }
        for (Spec s : nodes.subList(0, initialMembers)) {
            members.add(s.id());
        }
        this.bugs = List.copyOf(bugs);
        this.electionTimeout = electionTimeout;
        this.reports = new NodeReports(this, List.copyOf(specs.keySet()));
    }

    /** Starts every node from now on with a wall clock of its own in {@code clocks}. */
    synchronized void withClocks(WallClocks clocks) {
        this.clocks = clocks;
    }

    /** The current members (all slots, unless a scenario changes the members). */
    synchronized List<String> ids() {
        return List.copyOf(members);
    }

    /** The slots that are not members: spares a scenario may add. */
    synchronized List<String> spares() {
        List<String> out = new ArrayList<>(specs.keySet());
        out.removeAll(members);
        return out;
    }

    /**
     * The {@code --peers} of a node's start: the current members and the node itself. After its
     * first start a node uses the members its data directory records, so this only seeds a new one.
     */
    private synchronized String peersFor(String id) {
        List<String> parts = new ArrayList<>();
        for (Spec s : specs.values()) {
            if (members.contains(s.id()) || s.id().equals(id)) {
                parts.add(s.id() + "=" + s.id() + ".holdfast:" + s.raftPort() + ":" + s.clientPort());
            }
        }
        return String.join(",", parts);
    }

    Spec spec(String id) {
        return specs.get(id);
    }

    /** The client URI through the given dialer's hosts file: every member by name. */
    String uri() {
        List<String> parts = new ArrayList<>();
        for (Spec s : specs.values()) {
            parts.add(s.id() + ".holdfast:" + s.clientPort());
        }
        return "holdfast://" + String.join(",", parts);
    }

    /**
     * The client URI of a client homed on {@code home} (ADR 0003): every member by name, {@code
     * home} first, with {@code calls=first}, so that where each client starts is the run's seed's,
     * not chance's; a home that fails the client is left for another member as usual.
     */
    String uri(String home) {
        List<String> parts = new ArrayList<>();
        Spec first = specs.get(home);
        parts.add(first.id() + ".holdfast:" + first.clientPort());
        for (Spec s : specs.values()) {
            if (!s.id().equals(home)) {
                parts.add(s.id() + ".holdfast:" + s.clientPort());
            }
        }
        return "holdfast://" + String.join(",", parts) + "?calls=first";
    }

    /** Starts every member (in parallel) and waits until each says READY. */
    synchronized void startAll(Duration timeout) throws IOException, InterruptedException {
        for (String id : members) {
            launch(id);
        }
        for (String id : members) {
            awaitReady(id, timeout);
        }
    }

    /**
     * Asks the node {@code via} (the leader) for a change of the members, {@code "add ID
     * [learner]"}, {@code "remove ID"} or {@code "promote ID"}, then learns the members from it
     * whatever the outcome (a change that timed out may still have happened). Returns the node's
     * answer line: {@code CHANGED …} or {@code CHANGE-FAILED <why>}.
     */
    String changeMembers(String via, String change) throws IOException, InterruptedException {
        Child c = child(via);
        c.send("members " + change);
        String answer = c.expect(Duration.ofSeconds(60), "CHANGE");
        relearnMembers(via);
        return answer;
    }

    /**
     * Asks the node {@code via} for a change of the members as {@link #changeMembers} does, without
     * waiting for its answer: for a change the harness interrupts by killing {@code via}, whose
     * answer is never read.
     */
    void requestChange(String via, String change) throws IOException {
        child(via).send("members " + change);
    }

    /** Asks {@code via} for the current members and takes them as the truth. */
    void relearnMembers(String via) throws IOException, InterruptedException {
        Child c = child(via);
        c.send("members");
        String line = c.expect(Duration.ofSeconds(30), "MEMBERS");
        if (line.startsWith("MEMBERS ")) {
            List<String> ids = new ArrayList<>(
                    List.of(line.substring("MEMBERS ".length()).trim().split(",")));
            ids.removeIf(String::isBlank);
            if (!ids.isEmpty()) {
                synchronized (this) {
                    members.clear();
                    for (String id : specs.keySet()) { // slot order
                        if (ids.contains(id)) {
                            members.add(id);
                        }
                    }
                }
            }
        }
    }

    /** The Raft and client address of a slot as a change of the members names it. */
    String address(String id) {
        Spec s = specs.get(id);
        return id + ".holdfast:" + s.raftPort() + ":" + s.clientPort();
    }

    /** Deletes a stopped node's data directory (its disk is lost, or it leaves for good). */
    synchronized void wipe(String id) throws IOException {
        if (isUp(id)) {
            throw new IllegalStateException(id + " is running");
        }
        Path dir = specs.get(id).dataDir();
        if (java.nio.file.Files.exists(dir)) {
            try (var walk = java.nio.file.Files.walk(dir)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    java.nio.file.Files.delete(p);
                }
            }
        }
    }

    private synchronized Child child(String id) throws IOException {
        Child c = running.get(id);
        if (c == null || !c.isAlive()) {
            throw new IOException(id + " is not running");
        }
        return c;
    }

    /** Starts a node that is down and waits until it serves. */
    synchronized void start(String id, Duration timeout) throws IOException, InterruptedException {
        Child c = running.get(id);
        if (c != null && c.isAlive()) {
            return;
        }
        launch(id);
        awaitReady(id, timeout);
    }

    private void launch(String id) throws IOException {
        Spec s = specs.get(id);
        List<String> jvm = List.of(
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-XX:ActiveProcessorCount=1",
                "-XX:TieredStopAtLevel=1",
                "-Djdk.net.hosts.file=" + s.hostsFile(),
                // snapshots (and log purges) every few hundred entries, so restarts and lagging
                // followers go through snapshots too
                "-Dholdfast.raft.snapshotEvery=" + SNAPSHOT_EVERY,
                // one line per applied entry (index, term, entry and table CRCs): replicas that
                // end up different can be compared entry by entry
                "-Dholdfast.raft.traceApplied=true",
                "-Dholdfast.log.level=INFO",
                // Ratis's own elections and configuration changes, when a run is being studied
                "-Dholdfast.ratis.log.level=" + System.getProperty("holdfast.ratis.log.level", "WARN"),
                // the leader rehearsal (LeaderRehearsal), off unless this JVM turns it on
                "-Dholdfast.leaderRehearsal=" + System.getProperty("holdfast.leaderRehearsal", "off"));
        List<String> args = new ArrayList<>(List.of(
                "--id", id,
                "--peers", peersFor(id),
                "--data-dir", s.dataDir().toString(),
                "--http-port", Integer.toString(s.httpPort()),
                "--election-timeout", Long.toString(electionTimeout.toMillis()),
                // the members' transport: this JVM's -Dholdfast.raftTransport, grpc without it
                "--raft-transport",
                        io.holdfast.server.config.RaftTransport.configured().toString()));
        if (!bugs.isEmpty()) {
            args.add("--bugs");
            args.add(String.join(",", bugs));
        }
        running.put(
                id,
                Child.start(
                        id,
                        jvm,
                        NodeMain.class.getName(),
                        args,
                        s.log(),
                        clocks == null ? Map.of() : clocks.environment(id)));
    }

    /**
     * Starts a node that is down and waits until it serves or refuses to start; returns the line it
     * said ({@code READY …} or {@code FAILED <why>}: then it has exited).
     */
    synchronized String startOrRefused(String id, Duration timeout) throws IOException, InterruptedException {
        launch(id);
        String line = running.get(id).expect(timeout, "READY", "FAILED");
        if (line.startsWith("FAILED")) {
            running.remove(id);
        }
        return line;
    }

    private void awaitReady(String id, Duration timeout) throws IOException, InterruptedException {
        String line = running.get(id).expect(timeout, "READY", "FAILED");
        if (line.startsWith("FAILED")) {
            throw new IOException(
                    "node " + id + " could not start: " + line.substring(6).trim());
        }
    }

    synchronized boolean isUp(String id) {
        Child c = running.get(id);
        return c != null && c.isAlive();
    }

    synchronized boolean isPaused(String id) {
        Child c = running.get(id);
        return c != null && c.isPaused();
    }

    /** SIGKILL. */
    synchronized void kill(String id) throws InterruptedException {
        Child c = running.remove(id);
        if (c != null) {
            c.kill();
        }
    }

    synchronized void pause(String id) {
        Child c = running.get(id);
        if (c != null) {
            c.pause();
        }
    }

    synchronized void resume(String id) {
        Child c = running.get(id);
        if (c != null) {
            c.resume();
        }
    }

    /** The node's own view, or empty if it does not answer (down, paused, starting). */
    Optional<Status> status(String id) {
        return reports.status(id);
    }

    /** Asks a running node to take a snapshot now; its answer line. */
    String snapshot(String id) throws IOException, InterruptedException {
        Child c;
        synchronized (this) {
            c = running.get(id);
        }
        if (c == null || !c.isAlive()) {
            throw new IOException(id + " is not running");
        }
        c.send("snapshot");
        return c.expect(Duration.ofSeconds(30), "SNAPSHOT");
    }

    /**
     * Asks a running node that leads to hand its leadership to {@code target} (null: to the most
     * up-to-date voter); its answer line ({@code TRANSFERRED} or {@code TRANSFER-FAILED <why>}).
     */
    String transferLeader(String id, String target) throws IOException, InterruptedException {
        Child c;
        synchronized (this) {
            c = running.get(id);
        }
        if (c == null || !c.isAlive()) {
            throw new IOException(id + " is not running");
        }
        c.send(target == null ? "transfer-leader" : "transfer-leader " + target);
        return c.expect(Duration.ofSeconds(40), "TRANSFER");
    }

    /** SIGTERM, as an operator stops a node: it hands over its leadership first; waits for it to exit. */
    void stop(String id) throws InterruptedException {
        Child c;
        synchronized (this) {
            c = running.remove(id);
        }
        if (c != null) {
            c.terminate(Duration.ofSeconds(20));
        }
    }

    /** Whether the node's log says it loaded a snapshot (at start, or sent by the leader). */
    boolean loadedSnapshot(String id) {
        try {
            return java.nio.file.Files.readString(specs.get(id).log()).contains("Loaded snapshot");
        } catch (IOException e) {
            return false;
        }
    }

    /** The node's {@code /digest}: "appliedIndex:crc", or empty if it does not answer. */
    Optional<String> digest(String id) {
        return reports.digest(id);
    }

    /** The node that says it leads, with the highest term if several do (a stale one may still think so). */
    Optional<String> leader() {
        return reports.leader();
    }

    /** Waits for a leader that serves: {@link NodeReports#awaitLeader}. */
    String awaitLeader(Duration timeout) throws IOException, InterruptedException {
        return reports.awaitLeader(timeout);
    }

    /**
     * Stops every node at once, without waiting for them to exit: a node's shutdown (Ratis closing,
     * a last snapshot) takes a second that the harness spends on the next step instead. Each is told
     * {@code stop} ({@link NodeMain}): the whole cluster stops, so its leader does not first ask a
     * follower that is stopping too to take over (which cost every run's end two seconds, the wait
     * for that follower's silence). {@link Child#awaitBackgroundCloses()} waits for them; a node that
     * has not exited after its grace gets SIGTERM, then SIGKILL.
     */
    @Override
    public synchronized void close() {
        Child.closeInBackground(new ArrayList<>(running.values()), "stop");
        running.clear();
    }
}
