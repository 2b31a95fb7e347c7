package io.holdfast.server.leadership;

import io.holdfast.LockMode;
import io.holdfast.Ticker;
import io.holdfast.core.CommandCodec;
import io.holdfast.internal.Causes;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import io.holdfast.server.config.RaftSettings;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.raft.EntryCodec;
import io.holdfast.server.raft.LockStateMachine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When turned on (below), a member of a cluster runs the leader's paths once, {@value
 * #START_DELAY_MILLIS} ms after it starts and unless it leads by then, so that they are compiled
 * before it is elected: it leads a throwaway Raft group of two servers inside its own JVM, on
 * loopback, and writes to it what a lock client writes (a session, then acquire, release and a
 * linearizable read, from a few clients at once) through a {@link RaftGateway}, as the node's own
 * service does.
 *
 * <p><b>Why.</b> A follower never runs Ratis's leader (its leader state, its log appenders and their
 * gRPC streams) nor the node's side of the gateway, and the JIT compiles code only once it runs.
 * Measured (docs/benchmarks.md, 2026-12-02): in the 10 s after a leader's SIGKILL the new leader
 * compiled 2,110 methods and deoptimised 605 whose profile was a follower's, and served W1 at a fifth
 * of its rate for about ten seconds; the same code compiled by C1 alone had no such hole. With this
 * rehearsal and the killed leader left down, the new leader served W1 at 70 to 90 % of its rate in
 * the third second after the kill, against a third without it (docs/benchmarks.md, 2026-12-03).
 *
 * <p><b>Guarantees.</b> The rehearsal never touches the node's replicated state: its group has a
 * random id, two servers of its own with a {@link LockStateMachine} each over a fresh table, its log
 * in memory and its small metadata in a temporary directory that it deletes, and only loopback
 * ports; nothing of the node's Raft server, data directory or client port is used. It runs on a
 * daemon thread of its own, at most once per start, and gives up at the first failure (logged on one
 * line); a failure costs the node nothing but the compiled code it would have brought.
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
    /** Clients writing at once: the leader's appenders then batch, as under a real load. */
    static final int CLIENTS = 4;
    /** How long after the node's start the rehearsal begins. */
    static final long START_DELAY_MILLIS = 15_000;
    /** The longest wait for the throwaway group's first leader, and for any one request. */
    private static final long WAIT_MILLIS = 10_000;

    private final Thread thread;
    private volatile boolean stopped;

    private LeaderRehearsal(ServerConfig config, int pairs, Ticker ticker, BooleanSupplier leads) {
        this.thread = DaemonThreads.named("holdfast-leader-rehearsal").newThread(() -> {
            try {
                if (!waitOut(ticker, START_DELAY_MILLIS) || leads.getAsBoolean()) {
                    return; // stopped meanwhile, or leads already: its own clients run the leader's paths
                }
                Outcome done = run(config, pairs, ticker, () -> stopped);
                LOG.info(
                        "Node {} rehearsed the leader's paths on a throwaway group: {} lock pairs and {} reads"
                                + " in {} ms",
                        config.nodeId(),
                        done.pairs(),
                        done.reads(),
                        done.millis());
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
     * {@value #PROPERTY} turns it on; empty otherwise.
     */
    public static Optional<LeaderRehearsal> startIfClustered(
            ServerConfig config, Ticker ticker, BooleanSupplier leads) {
        int pairs = pairs(System.getProperty(PROPERTY), config.nodeId());
        if (config.peers().size() < 2 || pairs == 0) {
            return Optional.empty();
        }
        LeaderRehearsal rehearsal = new LeaderRehearsal(config, pairs, ticker, leads);
        rehearsal.thread.start();
        return Optional.of(rehearsal);
    }

    /**
     * Waits {@code millis} on {@code ticker} unless stopped first: false when stopped. The wait keeps
     * the rehearsal's CPU out of the node's own start (its first election, catching up, a restarted
     * member's first seconds, which may be a failover's on a machine it shares).
     */
    private boolean waitOut(Ticker ticker, long millis) throws InterruptedException {
        long until = ticker.nanos() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (!stopped && ticker.nanos() < until) {
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

    /** What a rehearsal wrote, and how long it took from its start to its last reply. */
    public record Outcome(long pairs, long reads, long millis) {}

    /**
     * Runs one rehearsal of {@code pairs} acquire-release pairs on this thread and removes what it
     * made; stops early (with what was written) once {@code stop} says so.
     *
     * @throws IOException when the throwaway group cannot be set up or a request fails
     */
    static Outcome run(ServerConfig config, int pairs, Ticker ticker, BooleanSupplier stop)
            throws IOException, InterruptedException {
        long start = ticker.nanos();
        Path dir = Files.createTempDirectory("holdfast-rehearsal-");
        List<RaftServer> servers = new ArrayList<>();
        try {
            RaftGroup group = group();
            for (RaftPeer peer : group.getPeers()) {
                LockStateMachine machine = LockStateMachine.throwaway();
                int port = Integer.parseInt(
                        peer.getAddress().substring(peer.getAddress().lastIndexOf(':') + 1));
                RaftServer server = RaftServer.newBuilder()
                        .setServerId(peer.getId())
                        .setGroup(group)
                        .setStateMachine(machine)
                        .setProperties(RaftSettings.rehearsalProperties(
                                config, dir.resolve(peer.getId().toString()), port))
                        .setParameters(RaftSettings.rehearsalParameters(config, machine.commitWakeups()))
                        .setOption(RaftStorage.StartupOption.FORMAT)
                        .build();
                servers.add(server);
                server.start();
            }
            RaftServer leader = awaitLeader(servers, group.getGroupId(), ticker, stop);
            RaftGateway gateway = new RaftGateway(
                    leader,
                    group.getGroupId(),
                    leader.getId(),
                    Map.of(),
                    () -> true,
                    new LeaseRefusals("rehearsal-" + config.nodeId(), ticker));
            AtomicLong done = new AtomicLong();
            AtomicLong reads = new AtomicLong();
            List<Thread> clients = new ArrayList<>();
            List<Exception> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                Thread t = DaemonThreads.named("holdfast-leader-rehearsal-" + c).newThread(() -> {
                    try {
                        new Client(gateway, client).run(pairs, done, reads, stop);
                    } catch (Exception e) {
                        failures.add(e);
                    }
                });
                clients.add(t);
                t.start();
            }
            for (Thread t : clients) {
                t.join();
            }
            if (!failures.isEmpty() && !stop.getAsBoolean()) {
                throw new IOException(
                        "a rehearsal write failed: " + Causes.rootMessage(failures.get(0)), failures.get(0));
            }
            return new Outcome(done.get(), reads.get(), TimeUnit.NANOSECONDS.toMillis(ticker.nanos() - start));
        } finally {
            for (RaftServer server : servers) {
                try {
                    server.close();
                } catch (IOException | RuntimeException e) {
                    LOG.debug("closing a rehearsal server: {}", Causes.rootMessage(e));
                }
            }
            delete(dir);
        }
    }

    /** Two peers on free loopback ports, in a group of a random id. */
    private static RaftGroup group() throws IOException {
        List<RaftPeer> peers = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            int port;
            try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = socket.getLocalPort();
            }
            peers.add(RaftPeer.newBuilder()
                    .setId(RaftPeerId.valueOf(RaftSettings.REHEARSAL_PEER_PREFIX + i))
                    .setAddress("127.0.0.1:" + port)
                    .build());
        }
        return RaftGroup.valueOf(RaftGroupId.randomId(), peers);
    }

    private static RaftServer awaitLeader(
            List<RaftServer> servers, RaftGroupId group, Ticker ticker, BooleanSupplier stop)
            throws IOException, InterruptedException {
        long deadline = ticker.nanos() + TimeUnit.MILLISECONDS.toNanos(WAIT_MILLIS);
        while (ticker.nanos() < deadline && !stop.getAsBoolean()) {
            for (RaftServer server : servers) {
                if (server.getDivision(group).getInfo().isLeaderReady()) {
                    return server;
                }
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
        throw new IOException("the throwaway group elected no leader within " + WAIT_MILLIS + " ms");
    }

    /** One client: a session of its own, then acquire, release and a read, until the pairs are written. */
    private static final class Client {
        private final RaftGateway gateway;
        private final String session;
        private final String lock;
        private long seq;
        private long time;

        Client(RaftGateway gateway, int n) {
            this.gateway = gateway;
            this.session = "rehearsal-session-" + n;
            this.lock = "rehearsal/lock-" + n;
        }

        void run(int pairs, AtomicLong done, AtomicLong reads, BooleanSupplier stop)
                throws IOException, InterruptedException {
            write(new Command.OpenSession(session, "rehearsal", 60_000, 0));
            while (!stop.getAsBoolean() && claim(done, pairs)) {
                Reply granted = write(new Command.Acquire(invocation(), lock, LockMode.EXCLUSIVE, 1, 1, 1, 0, 0));
                if (!(granted instanceof Reply.Granted g)) {
                    throw new IOException("the rehearsal's acquire was answered " + granted);
                }
                write(new Command.Release(invocation(), lock, g.token()));
                await(gateway.afterBarrier(() -> Boolean.TRUE));
                reads.incrementAndGet();
            }
        }

        /** Takes one of the {@code pairs} for this client; false once all are taken. */
        private static boolean claim(AtomicLong done, int pairs) {
            return done.getAndUpdate(n -> n < pairs ? n + 1 : n) < pairs;
        }

        private Command.Invocation invocation() {
            seq++;
            return new Command.Invocation(session, seq, seq);
        }

        private Reply write(Command command) throws IOException, InterruptedException {
            time++; // the entries' time: a counter, as nothing here expires
            byte[] entry = EntryCodec.encodeCommands(List.of(CommandCodec.encode(time, command)));
            byte[] reply = await(gateway.write(entry)).getMessage().getContent().toByteArray();
            return EntryCodec.decodeReplies(reply, 1).get(0);
        }

        private static <T> T await(java.util.concurrent.CompletableFuture<T> future)
                throws IOException, InterruptedException {
            try {
                return future.get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                throw new IOException(Causes.rootMessage(e), e.getCause());
            } catch (TimeoutException e) {
                future.cancel(false);
                throw new IOException("a rehearsal request took more than " + WAIT_MILLIS + " ms", e);
            }
        }
    }

    private static void delete(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("could not remove the leader rehearsal's directory {}: {}", dir, Causes.rootMessage(e));
        }
    }

    /** Stops a rehearsal under way (its servers closed, its directory removed) and waits for it, 5 s at most. */
    @Override
    public void close() throws InterruptedException {
        stopped = true;
        thread.join(5_000);
    }
}
