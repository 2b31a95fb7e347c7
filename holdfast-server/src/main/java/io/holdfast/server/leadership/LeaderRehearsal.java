package io.holdfast.server.leadership;

import io.holdfast.Ticker;
import io.holdfast.internal.Causes;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.raft.LockStateMachine;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When turned on (below), a member of a cluster runs the leader's paths once, {@value
 * #START_DELAY_MILLIS} ms after it starts, once one leader has held for {@value #STEADY_MILLIS} ms
 * ({@link SteadyLeader}) and unless it leads by then, so that they are compiled before it is
 * elected: it runs a throwaway Raft group of three servers inside its own JVM, on loopback, each
 * with its log on disk ({@link RehearsalGroup}); under the group's leader, and under another once
 * that one is closed as a leader dies, it writes what a lock client writes (a session, then
 * acquire, release and a linearizable read, from a few clients at once) through a {@link
 * RaftGateway}, as the node's own service does, and the followers relay rounds of heartbeats over
 * their {@link LeaderLink}s, which the leader answers ({@link HeartbeatVerdicts}, with {@link
 * LeaderDuties} of its own), as a leader answers its members.
 *
 * <p><b>Why.</b> A follower never runs Ratis's leader (its leader state, its log appenders and their
 * gRPC streams) nor the node's side of the gateway, and the JIT compiles code only once it runs.
 * Measured (docs/benchmarks.md, 2026-12-02): in the 10 s after a leader's SIGKILL the new leader
 * compiled 2,110 methods and deoptimised 605 whose profile was a follower's, and served W1 at a fifth
 * of its rate for about ten seconds; the same code compiled by C1 alone had no such hole. With this
 * rehearsal and the killed leader left down, the new leader served W1 at 70 to 90 % of its rate in
 * the third second after the kill, against a third without it (docs/benchmarks.md, 2026-12-03).
 *
 * <p><b>Guarantees.</b> The rehearsal never touches the node's replicated state ({@link
 * RehearsalGroup}: a group of a random id, three servers of its own with a {@link LockStateMachine}
 * each over a fresh table, a temporary directory that it deletes, only loopback ports). It runs on a
 * daemon thread of its own, at most once per start, and gives up at the first failure (logged on one
 * line); a failure costs the node nothing but the compiled code it would have brought. It gives the
 * CPU back to a failover: when the leadership changes while it runs, it stops between two writes,
 * and begins again once one leader has held for {@value #STEADY_MILLIS} ms (at most {@value
 * #ATTEMPTS} times).
 *
 * <p><b>Does not</b> make a fresh JVM fast: it costs CPU while it runs (a few seconds of one core),
 * and runs only in a cluster of more than one member, where another member may lead first. It does
 * not keep the code compiled: the JIT may still drop code later (a deoptimisation), which this does
 * not watch.
 *
 * <p><b>Off unless asked for:</b> {@code -Dholdfast.leaderRehearsal=on} ({@value #DEFAULT_PAIRS}
 * acquire-release pairs) or a number of pairs. The evidence so far (docs/benchmarks.md, 2026-12-03)
 * is three runs for its gain and a visible cost on a machine the members share; on by default waits
 * for more runs.
 */
public final class LeaderRehearsal implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LeaderRehearsal.class);

    /** The system property that turns it on and sets its size. */
    public static final String PROPERTY = "holdfast.leaderRehearsal";
    /** Acquire-release pairs written when {@link #PROPERTY} is {@code on}. */
    static final int DEFAULT_PAIRS = 4_000;
    /** How long after the node's start the rehearsal begins. */
    static final long START_DELAY_MILLIS = 15_000;
    /** How long one leader must have held, in one term, before a rehearsal (re)starts. */
    static final long STEADY_MILLIS = 5_000;
    /** Rehearsals begun, each stopped by a change of leadership but the last. */
    static final int ATTEMPTS = 3;

    private final Thread thread;
    private volatile boolean stopped;
    /** Rehearsals begun so far, and whether one runs now: for tests. */
    private volatile int attempts;

    private volatile boolean running;

    private LeaderRehearsal(ServerConfig config, int pairs, Ticker ticker, Supplier<String> leadership) {
        SteadyLeader steady = new SteadyLeader(leadership, ticker, STEADY_MILLIS);
        long startedAt = ticker.nanos();
        this.thread = DaemonThreads.named("holdfast-leader-rehearsal").newThread(() -> {
            try {
                if (!waitOut(ticker, startedAt + TimeUnit.MILLISECONDS.toNanos(START_DELAY_MILLIS))) {
                    return;
                }
                for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
                    if (!waitFor(steady::look) || steady.seen().startsWith(config.nodeId() + "@")) {
                        return; // stopped meanwhile, or leads: its own clients run the leader's paths
                    }
                    attempts++;
                    running = true;
                    RehearsalGroup.Outcome done;
                    try {
                        done = RehearsalGroup.run(config, pairs, ticker, () -> stopped || steady.disturbed());
                    } finally {
                        running = false;
                    }
                    if (stopped) {
                        return;
                    }
                    if (!steady.disturbed()) {
                        LOG.info(
                                "Node {} rehearsed the leader's paths on a throwaway group: {} lock pairs, {}"
                                        + " reads and {} relayed rounds of heartbeats under {} leaders in {} ms",
                                config.nodeId(),
                                done.pairs(),
                                done.reads(),
                                done.rounds(),
                                done.leaders(),
                                done.millis());
                        return;
                    }
                    LOG.info(
                            "Node {} stopped rehearsing the leader's paths after {} lock pairs: the leadership {}"
                                    + " changed, and a failover's CPU is not the rehearsal's ({})",
                            config.nodeId(),
                            done.pairs(),
                            steady.seen(),
                            attempt < ATTEMPTS
                                    ? "it begins again once one leader has held for " + STEADY_MILLIS + " ms"
                                    : "it gives up after " + ATTEMPTS + " attempts");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception | LinkageError e) {
                if (!stopped) {
                    LOG.info(
                            "Node {} did not rehearse the leader's paths (a new leader here will compile them as"
                                    + " it serves): {}",
                            config.nodeId(),
                            Causes.rootMessage(e));
                }
            }
        });
    }

    /**
     * Starts the rehearsal for the node of {@code config} when it is one of several members and
     * {@value #PROPERTY} turns it on; empty otherwise. {@code leadership} reads the leader this node
     * knows of and its term as {@code leader@term}, null while it knows none; a node that leads
     * itself once its leader is steady does not rehearse (its own clients run the leader's paths).
     */
    public static Optional<LeaderRehearsal> startIfClustered(
            ServerConfig config, Ticker ticker, Supplier<String> leadership) {
        int pairs = pairs(System.getProperty(PROPERTY), config.nodeId());
        if (config.peers().size() < 2 || pairs == 0) {
            return Optional.empty();
        }
        LeaderRehearsal rehearsal = new LeaderRehearsal(config, pairs, ticker, leadership);
        rehearsal.thread.start();
        return Optional.of(rehearsal);
    }

    /**
     * Waits until {@code ticker} reads {@code until} unless stopped first: false when stopped. The wait keeps
     * the rehearsal's CPU out of the node's own start (its first election, catching up, a restarted
     * member's first seconds, which may be a failover's on a machine it shares).
     */
    private boolean waitOut(Ticker ticker, long until) throws InterruptedException {
        while (!stopped && ticker.nanos() < until) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
        return !stopped;
    }

    /** Waits until {@code ready} says yes, asking every 50 ms, unless stopped first: false when stopped. */
    private boolean waitFor(BooleanSupplier ready) throws InterruptedException {
        while (!stopped && !ready.getAsBoolean()) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
        return !stopped;
    }

    /** The pairs that {@code value} of {@link #PROPERTY} asks for: 0 for off. */
    static int pairs(String value, String nodeId) {
        if (value == null || value.isBlank()) {
            return 0;
        }
        String v = value.strip();
        if (v.equalsIgnoreCase("off") || v.equalsIgnoreCase("false")) {
            return 0;
        }
        if (v.equalsIgnoreCase("on") || v.equalsIgnoreCase("true")) {
            return DEFAULT_PAIRS;
        }
        try {
            int pairs = Integer.parseInt(v);
            if (pairs >= 0) {
                return pairs;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        LOG.warn("Node {}: -D{}={} is neither on, off nor a number of pairs; no rehearsal", nodeId, PROPERTY, value);
        return 0;
    }

    /** Rehearsals begun so far (a test's view). */
    int attempts() {
        return attempts;
    }

    /** Whether a rehearsal runs now (a test's view). */
    boolean running() {
        return running;
    }

    /** Stops a rehearsal under way (its servers closed, its directory removed) and waits for it, 5 s at most. */
    @Override
    public void close() throws InterruptedException {
        stopped = true;
        thread.join(5_000);
    }
}
