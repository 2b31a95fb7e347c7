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
import io.holdfast.server.raft.TableQuery;
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
 * One rehearsal of the leader's paths ({@link LeaderRehearsal}): a throwaway Raft group of two
 * servers inside this JVM, on loopback, led by one of them, to which a few clients write what a lock
 * client writes (a session, then acquire, release and a linearizable read) through a {@link
 * RaftGateway}, as the node's own service does.
 *
 * <p><b>Guarantees.</b> Nothing of the node's Raft server, data directory or client port is used:
 * the group has a random id, a {@link LockStateMachine} per server over a fresh table, its log in
 * memory and its small metadata in a temporary directory that {@link #run} deletes, whatever its
 * outcome. A stop asked for between two writes (or while the group elects its leader) ends it with
 * what was written.
 *
 * <p><b>Failure story.</b> Its two ports come from {@code ServerSocket(0)}: if another process takes
 * one between that check and Ratis's bind, Ratis's gRPC server calls its {@code ExitUtils.terminate},
 * which ends the node's JVM. That is why the rehearsal stays off unless asked for.
 */
final class RehearsalGroup {
    private static final Logger LOG = LoggerFactory.getLogger(RehearsalGroup.class);

    /** Clients writing at once: the leader's appenders then batch, as under a real load. */
    static final int CLIENTS = 4;
    /** The longest wait for the throwaway group's first leader, and for any one request. */
    private static final long WAIT_MILLIS = 10_000;

    private RehearsalGroup() {}

    /** Rounds of relayed heartbeats the throwaway leader answers after the writes ({@link #answerRounds}). */
    static final int ROUNDS = 40;
    /** Sessions in one such round: a full round of a member's relay. */
    static final int ROUND_SESSIONS = 8192;

    /** What a rehearsal wrote and answered, and how long it took from its start to its last reply. */
    public record Outcome(long pairs, long reads, long rounds, long millis) {}

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
        Map<RaftPeerId, LockStateMachine> machines = new java.util.HashMap<>();
        try {
            RaftGroup group = group();
            for (RaftPeer peer : group.getPeers()) {
                LockStateMachine machine = LockStateMachine.throwaway();
                machines.put(peer.getId(), machine);
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
            if (leader == null) {
                return new Outcome(0, 0, 0, TimeUnit.NANOSECONDS.toMillis(ticker.nanos() - start));
            }
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
            long rounds = answerRounds(machines.get(leader.getId()), gateway, config.nodeId(), ticker, stop);
            return new Outcome(done.get(), reads.get(), rounds, TimeUnit.NANOSECONDS.toMillis(ticker.nanos() - start));
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

    /**
     * What a leader does with its members' relayed rounds ({@link HeartbeatVerdicts}, the round's
     * wire both ways), {@value #ROUNDS} rounds of {@value #ROUND_SESSIONS} heartbeats on the throwaway
     * leader's table (its clients' sessions, and sessions it never had), with {@link LeaderDuties} of
     * its own that track that table from a fresh start, as a new leader's do. A member never runs
     * this path before it leads. Rehearsed, a verdict took 0.8 µs; it did not shorten a new leader's
     * rounds at 100,000 sessions on a two-core machine full with the failover (393 to 879 ms for
     * 8,192, against 688 ms unrehearsed: the wait is for a core, docs/benchmarks.md, 2026-12-05).
     * Stops between two rounds once {@code stop} says so; returns the rounds answered.
     */
    private static long answerRounds(
            LockStateMachine machine, RaftGateway gateway, String nodeId, Ticker ticker, BooleanSupplier stop)
            throws IOException {
        LeaderDuties duties = new LeaderDuties(
                "rehearsal-" + nodeId,
                ticker,
                machine,
                envelope -> gateway.write(EntryCodec.encodeCommands(List.of(CommandCodec.encode(envelope))))
                        .thenApply(r -> EntryCodec.decodeReplies(
                                        r.getMessage().getContent().toByteArray(), 1)
                                .get(0)));
        try {
            duties.start();
            List<String> ids = new ArrayList<>(ROUND_SESSIONS);
            for (int i = 0; i < ROUND_SESSIONS; i++) {
                ids.add(i % 8 == 7 ? "rehearsal-gone-" + i : Client.sessionOf(i % CLIENTS));
            }
            long rounds = 0;
            while (rounds < ROUNDS && !stop.getAsBoolean()) {
                TableQuery.TouchSessions asked =
                        (TableQuery.TouchSessions) TableQuery.of(new TableQuery.TouchSessions(ids).message());
                TableQuery.TouchSessions.Answer answer = TableQuery.TouchSessions.Answer.of(duties.answering(
                        () -> HeartbeatVerdicts.of(machine, duties, java.util.Optional::empty, asked.sessionIds())));
                var back =
                        TableQuery.TouchSessions.Answer.parse(answer.message().getContent(), ids.size());
                if (back.isEmpty() || !back.get().verdicts().contains(TableQuery.TouchSessions.Verdict.ACKED)) {
                    throw new IOException("the rehearsal's round of heartbeats was answered " + back);
                }
                rounds++;
            }
            return rounds;
        } finally {
            duties.close();
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

    /** The throwaway group's leader once ready; null when stopped first. */
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
        if (stop.getAsBoolean()) {
            return null;
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
            this.session = sessionOf(n);
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

        /** The session of client {@code n}. */
        static String sessionOf(int n) {
            return "rehearsal-session-" + n;
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
}
