package io.holdfast.bench.population;

import io.holdfast.AcquireOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.bench.population.Nodes.Node;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A follower's restart and its catch-up from the leader's snapshot, timed on real processes, with what the nodes'
 * logs say about the snapshots they wrote and loaded ({@code wrote a snapshot at log index I (B bytes in M ms)},
 * {@code Loaded snapshot snapshot.T_I (...) in M ms}).
 *
 * <p>Guaranteed: each measurement prints one line and returns within its limit; a follower that did not come back
 * is named with its log's last error. Not guaranteed: that a catch-up went through a snapshot unless it says so
 * (the follower's log names the snapshot it loaded, and its index is past what it had applied).
 */
final class Disruptions {
    private static final Pattern WROTE =
            Pattern.compile("wrote a snapshot at log index (\\d+) \\((\\d+) bytes in (\\d+) ms\\)");
    private static final Pattern LOADED =
            Pattern.compile("Loaded snapshot snapshot\\.\\d+_(\\d+) \\((\\d+) sessions, (\\d+) locks\\) in (\\d+) ms");
    private static final int CHURN_CLIENTS = 4;

    /** A snapshot a node's log says it wrote. */
    record Wrote(long index, long bytes, long millis) {}

    /** A snapshot a node's log says it loaded. */
    record Loaded(long index, long locks, long millis) {}

    private final Nodes nodes;
    private final PrintWriter out;
    private final Duration limit;

    Disruptions(Nodes nodes, PrintWriter out, Duration limit) {
        this.nodes = nodes;
        this.out = out;
        this.limit = limit;
    }

    /**
     * SIGKILLs the follower, starts it again on its data and returns the ms from the start until it applied the
     * leader's index (empty if not within the limit).
     */
    Optional<Long> restart(Node follower) throws InterruptedException {
        Optional<Node> leader = nodes.leader();
        long applied = nodes.status(follower).map(Nodes.Status::appliedIndex).orElse(-1L);
        nodes.kill(follower);
        long offset = logLength(follower);
        Optional<long[]> t = startAndCatchUp(follower, leader);
        List<Loaded> loaded = loaded(follower, offset);
        if (t.isEmpty()) {
            print("restart of %s: not caught up within %s: %s", follower, limit, Nodes.logTail(follower));
            return Optional.empty();
        }
        print(
                "restart of %s (had applied %,d): ready %,d ms after its start, the leader's index applied after %,d ms;"
                        + " snapshots loaded: %s",
                follower, applied, t.get()[0], t.get()[1], loaded.isEmpty() ? "none" : loaded);
        return Optional.of(t.get()[1]);
    }

    /**
     * SIGKILLs the follower, moves the leader's log on until the leader purged the entries the follower lacks (its
     * oldest log segment starts past the follower's applied index, so only a snapshot can catch the follower up),
     * then starts the follower again and times it until it applied the leader's index. The log moves on by a few
     * clients that acquire and release locks of their own (entries: a snapshot comes every so many) and one that
     * rewrites a register of 32 KiB (bytes: a purge drops only whole segments). Returns why it failed, or empty.
     */
    Optional<String> catchUpFromSnapshot(Node follower) throws InterruptedException {
        Optional<Node> leader = nodes.leader();
        if (leader.isEmpty()) {
            return Optional.of("no leader");
        }
        long applied = nodes.status(follower).map(Nodes.Status::appliedIndex).orElse(-1L);
        nodes.kill(follower);
        List<Long> offsets = new ArrayList<>();
        for (Node n : nodes.all()) {
            offsets.add(logLength(n));
        }
        long t0 = System.nanoTime();
        long pairs;
        Optional<Wrote> past;
        try (Churn churn = new Churn(nodes.backendUri())) {
            past = awaitPurgedPast(leader.get(), offsets.get(nodes.all().indexOf(leader.get())), applied);
            pairs = churn.pairs();
            print(
                    "catch-up of %s: %,d register writes of 32 KiB beside the pairs; the leader's log now starts at"
                            + " %,d",
                    follower, churn.writes(), logStart(leader.get()));
        }
        long leaderApplied =
                nodes.status(leader.get()).map(Nodes.Status::appliedIndex).orElse(-1L);
        print(
                "catch-up of %s: down at index %,d; %,d acquire+release pairs in %.1f s moved the leader to %,d",
                follower, applied, pairs, (System.nanoTime() - t0) / 1e9, leaderApplied);
        for (Node n : nodes.all()) {
            if (n != follower) {
                print(
                        "  snapshots %s wrote meanwhile: %s",
                        n, wrote(n, offsets.get(nodes.all().indexOf(n))));
            }
        }
        if (past.isEmpty()) {
            return Optional.of("the leader did not purge its log past index " + applied + " within " + limit);
        }
        long offset = logLength(follower);
        Optional<long[]> t = startAndCatchUp(follower, leader);
        List<Loaded> loaded = loaded(follower, offset);
        boolean sent = loaded.stream().anyMatch(l -> l.index() > applied);
        if (t.isEmpty()) {
            return Optional.of(
                    follower + " did not apply the leader's index within " + limit + ": " + Nodes.logTail(follower));
        }
        print(
                "catch-up of %s: ready %,d ms after its start, the leader's index applied after %,d ms; snapshots"
                        + " loaded: %s; %s",
                follower,
                t.get()[0],
                t.get()[1],
                loaded,
                sent ? "the leader's snapshot installed" : "NO snapshot from the leader (caught up from the log)");
        return sent ? Optional.empty() : Optional.of(follower + " caught up from the log, not from a snapshot");
    }

    /** Starts the node; returns ms until ready and until it applied the leader's index, or empty. */
    private Optional<long[]> startAndCatchUp(Node n, Optional<Node> leader) throws InterruptedException {
        long t0 = System.nanoTime();
        try {
            nodes.start(n);
            nodes.awaitReady(n, limit);
        } catch (IOException e) {
            return Optional.empty();
        }
        long ready = (System.nanoTime() - t0) / 1_000_000;
        long end = t0 + limit.toNanos();
        while (System.nanoTime() < end) {
            long target = leader.flatMap(nodes::status)
                    .map(Nodes.Status::appliedIndex)
                    .orElse(Long.MAX_VALUE);
            if (nodes.status(n).map(Nodes.Status::appliedIndex).orElse(-1L) >= target) {
                return Optional.of(new long[] {ready, (System.nanoTime() - t0) / 1_000_000});
            }
            Thread.sleep(20);
        }
        return Optional.empty();
    }

    /** Waits until the leader's log starts past {@code index}; returns the snapshot that let it purge so far. */
    private Optional<Wrote> awaitPurgedPast(Node leader, long offset, long index) throws InterruptedException {
        long end = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < end) {
            if (logStart(leader) > index + 1) {
                List<Wrote> w = wrote(leader, offset);
                return Optional.of(w.isEmpty() ? new Wrote(-1, -1, -1) : w.get(w.size() - 1));
            }
            Thread.sleep(200);
        }
        return Optional.empty();
    }

    /**
     * The first index of the node's Raft log: the least start of its segment files ({@code log_START-END}, {@code
     * log_inprogress_START}); -1 if it has none.
     */
    static long logStart(Node n) {
        try (var files = java.nio.file.Files.walk(n.dataDir)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(f -> f.startsWith("log_"))
                    .mapToLong(f -> Long.parseLong(
                            f.startsWith("log_inprogress_")
                                    ? f.substring("log_inprogress_".length())
                                    : f.substring("log_".length(), f.indexOf('-'))))
                    .min()
                    .orElse(-1);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    static List<Wrote> wrote(Node n, long offset) {
        List<Wrote> all = new ArrayList<>();
        Matcher m = WROTE.matcher(logSince(n, offset));
        while (m.find()) {
            all.add(new Wrote(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3))));
        }
        return all;
    }

    static List<Loaded> loaded(Node n, long offset) {
        List<Loaded> all = new ArrayList<>();
        Matcher m = LOADED.matcher(logSince(n, offset));
        while (m.find()) {
            all.add(new Loaded(Long.parseLong(m.group(1)), Long.parseLong(m.group(3)), Long.parseLong(m.group(4))));
        }
        return all;
    }

    static long logLength(Node n) {
        return n.log.toFile().length();
    }

    private static String logSince(Node n, long offset) {
        try (RandomAccessFile f = new RandomAccessFile(n.log.toFile(), "r")) {
            long length = f.length();
            byte[] bytes = new byte[(int) Math.max(0, Math.min(Integer.MAX_VALUE - 8, length - offset))];
            f.seek(Math.min(offset, length));
            f.readFully(bytes);
            return new String(bytes, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private void print(String format, Object... args) {
        out.printf(Locale.ROOT, format + "%n", args);
        out.flush();
    }

    /**
     * A few clients, each acquiring and releasing a lock of its own in a loop, and one rewriting a register of
     * {@value #VALUE_BYTES} bytes, until closed.
     */
    private static final class Churn implements AutoCloseable {
        private static final int VALUE_BYTES = 32 * 1024;
        private final AtomicLong writes = new AtomicLong();
        private final LockClient client;
        private final AtomicBoolean stop = new AtomicBoolean();
        private final AtomicLong pairs = new AtomicLong();
        private final List<Thread> threads = new ArrayList<>();

        Churn(String uri) {
            client = LockClient.open(uri, Crowd.oneOff());
            for (int k = 0; k < CHURN_CLIENTS; k++) {
                var lock = client.lock("held-locks/churn-" + k);
                Thread t = new Thread(
                        () -> {
                            while (!stop.get()) {
                                try (Lease lease = lock.acquire(AcquireOptions.waitUpTo(Duration.ofSeconds(30)))) {
                                    lease.release();
                                    pairs.incrementAndGet();
                                } catch (InterruptedException e) {
                                    return;
                                } catch (RuntimeException e) {
                                    // unavailable for a moment (a snapshot under way): the next try tells
                                }
                            }
                        },
                        "held-locks-churn-" + k);
                t.setDaemon(true);
                t.start();
                threads.add(t);
            }
            var register = client.register("held-locks/churn-bytes");
            Thread w = new Thread(
                    () -> {
                        byte[] value = new byte[VALUE_BYTES];
                        long version = 0;
                        while (!stop.get()) {
                            try {
                                version = register.compareAndSet(version, value).version();
                                writes.incrementAndGet();
                            } catch (RuntimeException e) {
                                version = register.get().map(v -> v.version()).orElse(0L);
                            }
                        }
                    },
                    "held-locks-churn-bytes");
            w.setDaemon(true);
            w.start();
            threads.add(w);
        }

        long writes() {
            return writes.get();
        }

        long pairs() {
            return pairs.get();
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            for (Thread t : threads) {
                t.join(60_000);
            }
            client.close();
        }
    }
}
