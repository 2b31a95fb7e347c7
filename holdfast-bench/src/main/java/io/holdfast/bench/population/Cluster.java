package io.holdfast.bench.population;

import io.holdfast.bench.population.Nodes.Node;
import io.holdfast.bench.population.Nodes.Status;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The server processes a population runs on, as {@link PopulationBench} sees them: Holdfast's members ({@link
 * Nodes}) or ZooKeeper's ensemble ({@link Ensemble}). It starts, kills and restarts them, says which leads and how
 * far each has applied, and names them as the clients do; the machine's measures of a process (heap, RSS, CPU) are
 * {@link Nodes}'s, the same for both.
 *
 * <p>Guaranteed: every process started through it is stopped by {@link #close()}. Not guaranteed: that a member's
 * role is current by the time it is used (a leader may be gone a moment later). Failure story: a member dies by
 * itself; {@link #deadNodes()} names it with its log's tail.
 */
interface Cluster extends AutoCloseable {
    /** Every member, in a fixed order. */
    List<Node> all();

    /** The client URI naming every member ({@code holdfast://...} or {@code zookeeper://...}). */
    String backendUri();

    /** What the header line says about the servers (their kind and settings). */
    String describe();

    /** Starts every member and waits until each serves; fails at once if one of their ports is taken. */
    default void startAll(Duration timeout) throws IOException, InterruptedException {
        for (Node n : all()) {
            for (int port : new int[] {n.clientPort, n.raftPort, n.httpPort}) {
                if (Nodes.listening(port)) {
                    throw new IOException("something already listens on 127.0.0.1:" + port + "; pick --base-port");
                }
            }
        }
        for (Node n : all()) {
            start(n);
        }
        for (Node n : all()) {
            awaitReady(n, timeout);
        }
    }

    /** Starts (or restarts, on its data) one member. */
    void start(Node n) throws IOException;

    /** Whether the member serves clients now. */
    boolean serves(Node n);

    /** Waits until the member serves; fails naming its log's tail if it dies or the timeout passes. */
    default void awaitReady(Node n, Duration timeout) throws IOException, InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            if (!n.process.isAlive()) {
                throw new IOException(n.id + " exited during startup: " + Nodes.logTail(n));
            }
            if (serves(n)) {
                return;
            }
            Thread.sleep(50);
        }
        throw new IOException(n.id + " not ready after " + timeout.toSeconds() + " s: " + Nodes.logTail(n));
    }

    /** The member's role and how far it applied (an index or a zxid: comparable between members), if it answers. */
    Optional<Status> status(Node n);

    /** SIGKILLs the member and waits until it is gone. */
    default void kill(Node n) throws InterruptedException {
        n.process.destroyForcibly();
        n.process.waitFor(10, TimeUnit.SECONDS);
    }

    /** Members whose process ended, with their log's tail. */
    List<String> deadNodes();

    /**
     * A backup's size in bytes taken from the member, or empty when this kind of server has no backup to take.
     *
     * @throws IOException if the backup failed
     */
    Optional<Long> backupBytes(Node n) throws IOException, InterruptedException;

    /** The member that says it leads, if one does. */
    default Optional<Node> leader() {
        return withRole("leader");
    }

    /** A live member that does not lead. */
    default Optional<Node> follower() {
        return withRole("follower");
    }

    private Optional<Node> withRole(String role) {
        return all().stream()
                .filter(n -> n.process != null
                        && n.process.isAlive()
                        && status(n).map(s -> s.role().equals(role)).orElse(false))
                .findFirst();
    }

    /**
     * SIGKILLs a follower, restarts it on its data, and returns the ms from its restart until it applied what
     * the leader had then (-1 with no leader or follower, a failed start, or not within 5 minutes).
     */
    default long restartFollower() throws InterruptedException {
        Optional<Node> f = follower();
        Optional<Node> leader = leader();
        if (f.isEmpty() || leader.isEmpty()) {
            return -1;
        }
        kill(f.get());
        long t0 = System.nanoTime();
        try {
            start(f.get());
        } catch (IOException e) {
            return -1;
        }
        long limit = t0 + Duration.ofMinutes(5).toNanos();
        while (System.nanoTime() < limit) {
            long target = status(leader.get()).map(Status::appliedIndex).orElse(Long.MAX_VALUE);
            long applied = status(f.get()).map(Status::appliedIndex).orElse(-1L);
            if (applied >= target) {
                return (System.nanoTime() - t0) / 1_000_000;
            }
            Thread.sleep(20);
        }
        return -1;
    }

    @Override
    void close();
}
