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
import io.holdfast.server.raft.TableQuery;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One rehearsal of the leader's paths ({@link LeaderRehearsal}): a throwaway Raft group of three
 * servers inside this JVM, on loopback ({@link RehearsalMember}), whose leader dies half-way, as a
 * cell's does. Under each of its two leaders, a few clients write what a lock client writes (a
 * session, then acquire, release and a linearizable read) through the leader's {@link
 * RaftGateway}, as the node's own service does, and the followers relay rounds of heartbeats to it
 * over their {@link LeaderLink}s, as members relay their clients'; the first leader also opens a
 * fleet of sessions, which the second must give a fresh TTL ({@link LeaderDuties}).
 *
 * <p><b>Why three, on disk, with a death.</b> The group of two with its log in memory that this
 * replaced rehearsed code that a leader of three on a segmented log does not run: after a leader's
 * SIGKILL at 100,000 sessions, a warm new leader that had rehearsed on it still compiled 377 methods
 * in 4 s and made 104 of C2's not entrant, 69 of them Ratis's (the appenders, the followers' state,
 * the segmented log, the Ratis client's answer to a dead leader; docs/benchmarks.md, 2026-12-05).
 *
 * <p><b>Guarantees.</b> Nothing of the node's Raft server, data directory or client port is used:
 * the group has a random id, its members' logs and metadata in a temporary directory that {@link
 * #run} deletes, whatever its outcome. A stop asked for between two writes or rounds (or while the
 * group elects a leader) ends it with what was done.
 *
 * <p><b>Failure story.</b> Its members bind loopback ports the operating system picks (port 0) and
 * only then form the group from the ports they got: a port chosen before Ratis bound it could be
 * taken by another process in between, and Ratis's gRPC server ends the JVM ({@code
 * ExitUtils.terminate}) when its bind fails. A group that cannot be set up or elects no leader in
 * time ends the rehearsal with an {@link IOException}; the node logs it and carries on cold.
 */
final class RehearsalGroup {
    private static final Logger LOG = LoggerFactory.getLogger(RehearsalGroup.class);

    /** Clients writing at once: the leader's appenders then batch, as under a real load. */
    static final int CLIENTS = 4;
    /** Members of the throwaway group: a leader with two followers, as a cell of three. */
    static final int MEMBERS = 3;
    /** The longest wait for one of the throwaway group's leaders, and for any one request or round. */
    private static final long WAIT_MILLIS = 10_000;

    private RehearsalGroup() {}

    /** Rounds of relayed heartbeats the followers ask the group's leaders, half under each. */
    static final int ROUNDS = 40;
    /** Sessions in one such round: a full round of a member's relay. */
    static final int ROUND_SESSIONS = 8192;
    /** Sessions the first leader opens beside its clients' (the second tracks them all afresh). */
    static final int FLEET = 4096;
    /** Sessions opened per entry. */
    private static final int OPENS_PER_ENTRY = 256;
    /**
     * The rehearsal's sessions' TTL: the longest a session may have. Its leaders' duties keep the
     * cluster clock from when each led, and nothing heartbeats the clients' sessions while they
     * write: on a member restarted under 100,000 sessions a rehearsal took more than 60 s, and its
     * sessions of 60 s expired under it (the acquire answered SESSION_EXPIRED).
     */
    static final long SESSION_TTL_MILLIS = io.holdfast.core.Limits.MAX_TTL_MILLIS;

    /**
     * What a rehearsal wrote and answered: acquire-release pairs, reads, relayed rounds answered,
     * the leaders it wrote through (2 once the first died and another led), and how long it took
     * from its start to its last reply.
     */
    public record Outcome(long pairs, long reads, long rounds, int leaders, long millis) {}

    /**
     * Runs one rehearsal of {@code pairs} acquire-release pairs on this thread and removes what it
     * made; stops early (with what was done) once {@code stop} says so.
     *
     * @throws IOException when the throwaway group cannot be set up, elects no leader in time, or
     *     a request fails
     */
    static Outcome run(ServerConfig config, int pairs, Ticker ticker, BooleanSupplier stop)
            throws IOException, InterruptedException {
        return run(config, pairs, ticker, stop, Path.of(System.getProperty("java.io.tmpdir")));
    }

    /** {@link #run}, with the throwaway group's directory made inside {@code scratch}. */
    static Outcome run(ServerConfig config, int pairs, Ticker ticker, BooleanSupplier stop, Path scratch)
            throws IOException, InterruptedException {
        long start = ticker.nanos();
        Path dir = Files.createTempDirectory(scratch, "holdfast-rehearsal-");
        List<RehearsalMember> members = new ArrayList<>();
        Progress done = new Progress();
        try {
            RaftGroupId groupId = RaftGroupId.randomId();
            for (int i = 0; i < MEMBERS; i++) {
                RaftPeerId id = RaftPeerId.valueOf(RaftSettings.REHEARSAL_PEER_PREFIX + i);
                members.add(RehearsalMember.start(config, groupId, id, dir.resolve(id.toString()), ticker));
            }
            RaftGroup group = RaftGroup.valueOf(
                    groupId, members.stream().map(RehearsalMember::peer).toList());
            for (RehearsalMember member : members) {
                member.join(group);
            }
            List<Client> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                clients.add(new Client(c));
            }
            List<String> round = round();
            for (int leaders = 1; leaders <= 2; leaders++) {
                RehearsalMember leader = awaitLeader(members, ticker, stop);
                if (leader == null) {
                    break;
                }
                done.leaders = leaders;
                if (leaders == 1) {
                    openFleet(leader);
                }
                writePairs(leader, clients, leaders == 1 ? pairs / 2 : pairs, done, stop);
                relayRounds(leader, members, round, leaders * ROUNDS / 2, done, ticker, stop);
                if (leaders == 1) {
                    // The leader dies: its peers see its streams end, and elect another.
                    members.remove(leader);
                    leader.close();
                }
            }
            return new Outcome(
                    done.pairs.get(),
                    done.reads.get(),
                    done.rounds,
                    done.leaders,
                    TimeUnit.NANOSECONDS.toMillis(ticker.nanos() - start));
        } finally {
            for (RehearsalMember member : members) {
                member.close();
            }
            delete(dir);
        }
    }

    /** What a rehearsal did so far. */
    private static final class Progress {
        final AtomicLong pairs = new AtomicLong();
        final AtomicLong reads = new AtomicLong();
        long rounds;
        int leaders;
    }

    /** Writes pairs through {@code leader} until {@code upTo} are done in all, from every client at once. */
    private static void writePairs(
            RehearsalMember leader, List<Client> clients, int upTo, Progress done, BooleanSupplier stop)
            throws IOException, InterruptedException {
        List<Thread> threads = new ArrayList<>();
        List<Exception> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        for (Client client : clients) {
            Thread t = DaemonThreads.named("holdfast-leader-rehearsal-" + client.n)
                    .newThread(() -> {
                        try {
                            client.run(leader, upTo, done, stop);
                        } catch (Exception e) {
                            failures.add(e);
                        }
                    });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        if (!failures.isEmpty() && !stop.getAsBoolean()) {
            throw new IOException("a rehearsal write failed: " + Causes.rootMessage(failures.get(0)), failures.get(0));
        }
    }

    /** The first leader opens {@value #FLEET} sessions, {@value #OPENS_PER_ENTRY} an entry. */
    private static void openFleet(RehearsalMember leader) throws IOException, InterruptedException {
        for (int from = 0; from < FLEET; from += OPENS_PER_ENTRY) {
            List<byte[]> opens = new ArrayList<>(OPENS_PER_ENTRY);
            for (int i = from; i < from + OPENS_PER_ENTRY; i++) {
                opens.add(CommandCodec.encode(
                        1, new Command.OpenSession(fleetSession(i), "rehearsal", SESSION_TTL_MILLIS, 0)));
            }
            byte[] reply = await(leader.gateway().write(EntryCodec.encodeCommands(opens)))
                    .getMessage()
                    .getContent()
                    .toByteArray();
            for (Reply r : EntryCodec.decodeReplies(reply, opens.size())) {
                if (r instanceof Reply.Failed) {
                    throw new IOException("the rehearsal's session open was answered " + r);
                }
            }
        }
    }

    /**
     * The leader's members that do not lead relay rounds of heartbeats over their links, in turn,
     * until {@code upTo} rounds are answered in all: what a leader does with its members' relayed
     * rounds ({@link HeartbeatVerdicts}, the round's wire both ways, the link's tries). A round the
     * leader refuses (it leads since a moment, without its lease yet) is asked again, for up to
     * {@value #WAIT_MILLIS} ms. A member never runs these paths before it leads; rehearsed alone on
     * a group of two, the verdicts did not shorten a new leader's rounds at 100,000 sessions on a
     * two-core machine full with the failover (the wait is for a core, docs/benchmarks.md,
     * 2026-12-05).
     */
    private static void relayRounds(
            RehearsalMember leader,
            List<RehearsalMember> members,
            List<String> round,
            long upTo,
            Progress done,
            Ticker ticker,
            BooleanSupplier stop)
            throws IOException {
        List<RehearsalMember> relays = members.stream().filter(m -> m != leader).toList();
        TableQuery.TouchSessions asked = new TableQuery.TouchSessions(round);
        long deadline = ticker.nanos() + TimeUnit.MILLISECONDS.toNanos(WAIT_MILLIS);
        String last = "no round asked";
        TableQuery.TouchSessions.Answer answer = null;
        for (int turn = 0; done.rounds < upTo && !stop.getAsBoolean(); turn++) {
            RehearsalMember relay = relays.get(turn % relays.size());
            try {
                answer = TableQuery.TouchSessions.Answer.parse(relay.link().ask(asked), round.size())
                        .orElse(null);
                if (answer != null && answer.refusal() == null) {
                    done.rounds++;
                    deadline = ticker.nanos() + TimeUnit.MILLISECONDS.toNanos(WAIT_MILLIS);
                    continue;
                }
                last = answer == null ? "an empty answer" : "refused: " + answer.refusal();
            } catch (RuntimeException e) {
                last = Causes.rootMessage(e);
            }
            if (ticker.nanos() - deadline > 0) {
                throw new IOException(
                        "the rehearsal's relayed rounds were not answered for " + WAIT_MILLIS + " ms (" + last + ")");
            }
        }
        if (answer != null
                && answer.refusal() == null
                && !answer.verdicts().contains(TableQuery.TouchSessions.Verdict.ACKED)) {
            throw new IOException("the rehearsal's last round of heartbeats acknowledged none of its " + round.size()
                    + " sessions (" + answer.verdicts().stream().distinct().toList() + ")");
        }
    }

    /** A round: the fleet's sessions and the clients', with one in eight a session nobody opened. */
    private static List<String> round() {
        List<String> ids = new ArrayList<>(ROUND_SESSIONS);
        for (int i = 0; i < ROUND_SESSIONS; i++) {
            ids.add(
                    i % 8 == 7
                            ? "rehearsal-gone-" + i
                            : i % 2 == 0 ? Client.sessionOf(i % CLIENTS) : fleetSession(i % FLEET));
        }
        return ids;
    }

    private static String fleetSession(int i) {
        return "rehearsal-fleet-" + i;
    }

    /** The member that leads once ready (its duties started); null when stopped first. */
    private static RehearsalMember awaitLeader(List<RehearsalMember> members, Ticker ticker, BooleanSupplier stop)
            throws IOException, InterruptedException {
        long deadline = ticker.nanos() + TimeUnit.MILLISECONDS.toNanos(WAIT_MILLIS);
        while (ticker.nanos() < deadline && !stop.getAsBoolean()) {
            for (RehearsalMember member : members) {
                if (member.leads()) {
                    return member;
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

    /** One client: a session of its own, then acquire, release and a read, through whichever member leads. */
    private static final class Client {
        private final int n;
        private final String session;
        private final String lock;
        private boolean opened;
        private long seq;
        private long time;

        Client(int n) {
            this.n = n;
            this.session = sessionOf(n);
            this.lock = "rehearsal/lock-" + n;
        }

        /** Writes pairs through {@code leader} until {@code upTo} are done in all (its session opened first). */
        void run(RehearsalMember leader, int upTo, Progress done, BooleanSupplier stop)
                throws IOException, InterruptedException {
            if (!opened) {
                write(leader, new Command.OpenSession(session, "rehearsal", SESSION_TTL_MILLIS, 0));
                opened = true;
            }
            while (!stop.getAsBoolean() && claim(done.pairs, upTo)) {
                Reply granted =
                        write(leader, new Command.Acquire(invocation(), lock, LockMode.EXCLUSIVE, 1, 1, 1, 0, 0));
                if (!(granted instanceof Reply.Granted g)) {
                    throw new IOException("the rehearsal's acquire was answered " + granted);
                }
                write(leader, new Command.Release(invocation(), lock, g.token()));
                await(leader.gateway().afterBarrier(() -> Boolean.TRUE));
                done.reads.incrementAndGet();
            }
        }

        /** The session of client {@code n}. */
        static String sessionOf(int n) {
            return "rehearsal-session-" + n;
        }

        /** Takes one of the pairs up to {@code upTo}; false once all are taken. */
        private static boolean claim(AtomicLong done, int upTo) {
            return done.getAndUpdate(n -> n < upTo ? n + 1 : n) < upTo;
        }

        private Command.Invocation invocation() {
            seq++;
            return new Command.Invocation(session, seq, seq);
        }

        private Reply write(RehearsalMember leader, Command command) throws IOException, InterruptedException {
            time++; // the entries' time: a counter (the table's clock never goes back)
            return await(leader.write(time, command));
        }
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
