package io.holdfast.bench.load;

import io.holdfast.DistributedLock;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockMode;
import io.holdfast.client.HoldfastProvider;
import io.holdfast.client.internal.ClusterTransport;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Where the time of one request to a Holdfast server goes, measured by subtraction: one client thread runs three
 * closed loops against the same server, one after the other, and each loop adds one layer to the one before.
 *
 * <ol>
 *   <li><b>round trip</b>: a keep-alive over the client's gRPC transport, which the leader answers from memory: the
 *       client transport, the network, the server's gRPC dispatch and the reply, with no Raft;
 *   <li><b>write</b>: acquire and release commands sent over the same transport (no client library): the round
 *       trip plus the Raft write (proposer, log append, fsync, replication to a majority in a cluster, commit, apply,
 *       and the hand-offs between those threads);
 *   <li><b>client API</b>: acquire+release pairs through {@link LockClient}, counted per request: the write plus what
 *       the client library adds (sequence numbers, pending waits, leases, retries, waking the caller).
 * </ol>
 *
 * The three run together for the warm-up (they share most code), then each alone for the measured duration. Each
 * loop reports the median and p99 per request and the CPU per request of this process and, with {@code
 * --server-pid}, of the servers. Run it against a node with and without {@code --no-fsync} and against a cluster to
 * split the write further: fsync = write(fsync) - write(no fsync), replication = write(cluster) - write(one node).
 *
 * <pre>
 * java -cp holdfast-bench/target/benchmarks.jar io.holdfast.bench.load.LatencyBudget \
 *     --backend holdfast://127.0.0.1:4653 [--duration 10s] [--warmup 5s] [--server-pid PID[,PID...]]
 * </pre>
 */
public final class LatencyBudget {
    /** One loop's outcome: per request. */
    record Step(String name, long requests, double p50Micros, double p99Micros, CpuMeter.CpuUse cpu) {}

    private static final String NAME_PREFIX = "budget/";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String backend;
    private final Duration duration;
    private final Duration warmup;
    private final CpuMeter meter;

    LatencyBudget(String backend, Duration duration, Duration warmup, CpuMeter meter) {
        this.backend = backend;
        this.duration = duration;
        this.warmup = warmup;
        this.meter = meter;
    }

    /** Warms all three up together (they share most code), then measures each in turn. */
    List<Step> run() throws InterruptedException {
        ClusterTransport transport = HoldfastProvider.transport(backend, Duration.ofSeconds(10));
        try (LockClient client = LockClient.open(backend)) {
            RawSession session = RawSession.open(transport);
            DistributedLock lock = client.lock(NAME_PREFIX + "api-" + Long.toString(RANDOM.nextLong() >>> 1, 36));
            List<Loop> loops = List.of(
                    new Loop("round trip (keep-alive, no Raft)", session::keepAlive, 1),
                    new Loop("write (acquire or release, raw)", session::acquireAndRelease, 2),
                    new Loop(
                            "client API (acquire+release / 2)",
                            () -> {
                                try (Lease lease = lock.acquire(Duration.ofSeconds(30))) {
                                    lease.fencingToken();
                                }
                            },
                            2));
            long warmupEnd = System.nanoTime() + warmup.toNanos();
            while (System.nanoTime() < warmupEnd) {
                for (Loop l : loops) {
                    for (int i = 0; i < 100; i++) {
                        call(l.body());
                    }
                }
            }
            List<Step> steps = new ArrayList<>();
            for (Loop l : loops) {
                steps.add(measure(l));
            }
            session.close();
            return steps;
        } finally {
            transport.close();
        }
    }

    /** A body that does {@code requests} requests per call. */
    private interface Body {
        void run() throws Exception;
    }

    private record Loop(String name, Body body, int requests) {}

    private Step measure(Loop loop) throws InterruptedException {
        Histogram h = new Histogram(3);
        CpuMeter.Sample from = meter.sample();
        long end = System.nanoTime() + duration.toNanos();
        long calls = 0;
        long now;
        while ((now = System.nanoTime()) < end) {
            call(loop.body());
            h.recordValue(Math.max(1, (System.nanoTime() - now) / loop.requests()));
            calls++;
        }
        long requests = calls * loop.requests();
        return new Step(
                loop.name(),
                requests,
                h.getValueAtPercentile(50) / 1e3,
                h.getValueAtPercentile(99) / 1e3,
                CpuMeter.perPair(from, meter.sample(), requests));
    }

    private static void call(Body body) throws InterruptedException {
        try {
            body.run();
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("the benchmark's request failed: " + e, e);
        }
    }

    /** Prints the loops and the layers each adds, per request. */
    static void print(List<Step> steps, String backend, PrintWriter out) {
        out.printf(Locale.ROOT, "latency budget of one request at %s%n", backend);
        out.printf(
                Locale.ROOT,
                "  %-36s %10s %10s %10s %12s %12s%n",
                "loop",
                "requests",
                "p50 us",
                "p99 us",
                "client cpu us",
                "server cpu us");
        for (Step s : steps) {
            out.printf(
                    Locale.ROOT,
                    "  %-36s %,10d %10.1f %10.1f %12s %12s%n",
                    s.name(),
                    s.requests(),
                    s.p50Micros(),
                    s.p99Micros(),
                    micros(s.cpu().clientMsPerPair()),
                    micros(s.cpu().serverMsPerPair()));
        }
        out.printf(Locale.ROOT, "  layers (median, and CPU, per request):%n");
        String[] layers = {
            "gRPC round trip: client transport, loopback, server dispatch, reply",
            "Raft write: proposer, append, fsync, replication, commit, apply, hand-offs",
            "client library: sequence numbers, waits, leases, waking the caller"
        };
        for (int i = 0; i < steps.size() && i < layers.length; i++) {
            Step s = steps.get(i);
            Step before = i == 0 ? null : steps.get(i - 1);
            out.printf(
                    Locale.ROOT,
                    "  %-76s %8.1f us  client %s us  servers %s us%n",
                    layers[i],
                    s.p50Micros() - (before == null ? 0 : before.p50Micros()),
                    micros(s.cpu().clientMsPerPair()
                            - (before == null ? 0 : before.cpu().clientMsPerPair())),
                    micros(s.cpu().serverMsPerPair()
                            - (before == null ? 0 : before.cpu().serverMsPerPair())));
        }
        out.flush();
    }

    private static String micros(double ms) {
        return Double.isNaN(ms) ? "-" : String.format(Locale.ROOT, "%.1f", ms * 1000);
    }

    /** A session driven by hand over the transport: each command with its own, acknowledged invocation. */
    private static final class RawSession {
        private final ClusterTransport transport;
        private final String id;
        private final String name;
        private long seq;

        private RawSession(ClusterTransport transport, String id) {
            this.transport = transport;
            this.id = id;
            this.name = NAME_PREFIX + "raw-" + id.substring(0, 8);
        }

        static RawSession open(ClusterTransport transport) throws InterruptedException {
            RawSession s = new RawSession(transport, io.holdfast.model.SessionIds.newId());
            s.expect(Reply.Ok.class, transport.submit(new Command.OpenSession(s.id, "latency-budget", 30_000, 0)));
            return s;
        }

        void keepAlive() throws InterruptedException {
            expect(Reply.Ok.class, transport.keepAlive(id));
        }

        void acquireAndRelease() throws InterruptedException {
            Reply.Granted granted = expect(
                    Reply.Granted.class,
                    transport.submit(new Command.Acquire(next(), name, LockMode.EXCLUSIVE, 1, 1, 1, 0, 0)));
            expect(Reply.Ok.class, transport.submit(new Command.Release(next(), name, granted.token())));
        }

        void close() throws InterruptedException {
            expect(Reply.Ok.class, transport.submit(new Command.CloseSession(next())));
        }

        private Command.Invocation next() {
            seq++;
            return new Command.Invocation(id, seq, seq);
        }

        private <T extends Reply> T expect(Class<T> type, java.util.concurrent.CompletableFuture<Reply> reply)
                throws InterruptedException {
            Reply r;
            try {
                r = reply.get(30, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                throw new IllegalStateException("no answer from the server: " + e, e);
            }
            if (!type.isInstance(r)) {
                throw new IllegalStateException("expected " + type.getSimpleName() + ", got " + r);
            }
            return type.cast(r);
        }
    }

    private static final String USAGE = "usage: LatencyBudget --backend holdfast://HOST:PORT[,...] [--duration 10s]"
            + " [--warmup 5s] [--server-pid PID[,PID...]]";

    /** Command-line entry point; see the class comment. Exit code 0, 1 when a request failed, 64 bad usage. */
    public static void main(String[] args) throws Exception {
        String backend = null;
        Duration duration = Duration.ofSeconds(10);
        Duration warmup = Duration.ofSeconds(5);
        List<Long> pids = new ArrayList<>();
        CpuMeter meter;
        try {
            List<String[]> options = OptionPairs.read(args);
            if (options == null) {
                System.out.println(USAGE);
                return;
            }
            for (String[] option : options) {
                String v = option[1];
                switch (option[0]) {
                    case "--backend" -> backend = v;
                    case "--duration" -> duration = LoadSettings.parseDuration(v);
                    case "--warmup" -> warmup = LoadSettings.parseDuration(v);
                    case "--server-pid" -> pids.addAll(LoadGenerator.parsePids(v));
                    default -> throw new IllegalArgumentException("unknown option " + option[0]);
                }
            }
            if (backend == null || !backend.startsWith("holdfast://")) {
                throw new IllegalArgumentException("--backend must be a holdfast:// URI, not " + backend);
            }
            meter = CpuMeter.of(pids);
        } catch (IllegalArgumentException e) {
            System.err.println("LatencyBudget: " + e.getMessage() + "\n" + USAGE);
            System.exit(64);
            return;
        }
        List<Step> steps;
        try {
            steps = new LatencyBudget(backend, duration, warmup, meter).run();
        } catch (RuntimeException e) {
            System.err.println("LatencyBudget: " + e.getMessage());
            System.exit(1);
            return;
        }
        print(steps, backend, new PrintWriter(System.out, true, StandardCharsets.UTF_8));
    }
}
