package io.holdfast.bench.load;

import io.holdfast.DistributedLock;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * An end-to-end load generator for any lock backend: N client threads, each with its own {@code LockClient} (its
 * own session and connection), loop acquire+release on their lock for a warmup and then a measured duration, and
 * every pair's latency goes into an HdrHistogram. It stops by itself.
 *
 * <p>It is a closed loop: a client starts its next pair when the last one ends, so the latencies are those of a
 * system kept busy by N callers, not of a fixed arrival rate (there is no coordinated-omission correction because
 * there is no schedule to omit from). With one lock and many clients every pair is a handoff: the rate is the
 * handoffs per second.
 *
 * <pre>
 * java -cp ... io.holdfast.bench.load.LoadGenerator --backend holdfast://127.0.0.1:4653 --clients 64 --locks 64 \
 *     --duration 20s --warmup 5s [--wait 30s] [--label NAME --tsv FILE]
 * </pre>
 *
 * The CLI runs the same thing as {@code ./holdfast bench}.
 */
public final class LoadGenerator {
    /**
     * One progress report, about once a second: the pairs that ended since the last one, as a rate and as latency
     * percentiles ({@code NaN} when none ended), and the errors so far in this phase (warmup, then measure).
     */
    public record Tick(
            double elapsedSeconds,
            double totalSeconds,
            boolean warmup,
            double rate,
            double p50Ms,
            double p99Ms,
            long errors) {}

    private final LoadSettings settings;
    private final CpuMeter cpu;
    private final String runId = Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
    private final Recorder pairs = new Recorder(3);
    private final Recorder acquires = new Recorder(3);
    private final Recorder releases = new Recorder(3);
    private volatile Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    private volatile boolean stopping;

    public LoadGenerator(LoadSettings settings) {
        this(settings, CpuMeter.of(List.of()));
    }

    /** A load run that also reports the CPU per pair of this process and of the servers {@code cpu} measures. */
    public LoadGenerator(LoadSettings settings, CpuMeter cpu) {
        this.settings = settings;
        this.cpu = cpu;
    }

    /** Runs the load; {@code progress} is called from this thread about once a second. */
    public LoadReport run(Consumer<Tick> progress) throws InterruptedException {
        List<LockClient> clients = openClients();
        List<Thread> threads = new ArrayList<>();
        CountDownLatch start = new CountDownLatch(1);
        try {
            for (int i = 0; i < settings.clients(); i++) {
                String lockName = "bench/" + runId + "/lock-" + (i % settings.locks());
                DistributedLock lock = clients.get(i).lock(lockName);
                Thread t = new Thread(() -> work(lock, start), "load-client-" + i);
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }
            return measure(start, progress);
        } finally {
            stopping = true;
            errors = new ConcurrentHashMap<>(); // anything after the window is not counted
            joinAll(threads, Duration.ofSeconds(2));
            closeAll(clients); // ends waits still queued (a contended lock's queue)
            joinAll(threads, settings.acquireWait().plusSeconds(5));
            for (Thread t : threads) {
                t.interrupt();
            }
        }
    }

    private List<LockClient> openClients() {
        List<LockClient> clients = new ArrayList<>();
        try {
            LockClient shared = settings.shareClient() ? LockClient.open(settings.backend()) : null;
            for (int i = 0; i < settings.clients(); i++) {
                clients.add(shared != null ? shared : LockClient.open(settings.backend()));
            }
            return clients;
        } catch (RuntimeException e) {
            closeAll(clients);
            throw e;
        }
    }

    private void work(DistributedLock lock, CountDownLatch start) {
        try {
            start.await();
        } catch (InterruptedException e) {
            return;
        }
        while (!stopping) {
            long t0 = System.nanoTime();
            Lease lease;
            try {
                lease = lock.acquire(settings.acquireWait());
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                error(e);
                continue;
            }
            long t1 = System.nanoTime();
            try {
                lease.release();
            } catch (RuntimeException e) {
                error(e);
                continue;
            }
            long t2 = System.nanoTime();
            pairs.recordValue(micros(t2 - t0));
            acquires.recordValue(micros(t1 - t0));
            releases.recordValue(micros(t2 - t1));
        }
    }

    private static long micros(long nanos) {
        return Math.max(1, TimeUnit.NANOSECONDS.toMicros(nanos));
    }

    private void error(RuntimeException e) {
        if (stopping) {
            return;
        }
        errors.computeIfAbsent(e.getClass().getSimpleName(), k -> new LongAdder())
                .increment();
        try {
            Thread.sleep(10); // no busy loop against a backend that is down
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
    }

    private LoadReport measure(CountDownLatch start, Consumer<Tick> progress) throws InterruptedException {
        long warmupNanos = settings.warmup().toNanos();
        long endNanos = warmupNanos + settings.duration().toNanos();
        double totalSeconds = endNanos / 1e9;
        Histogram pairTotal = new Histogram(3);
        Histogram acquireTotal = new Histogram(3);
        Histogram releaseTotal = new Histogram(3);
        Histogram interval = null;
        long t0 = System.nanoTime();
        start.countDown();
        long measuredFrom = warmupNanos == 0 ? t0 : -1;
        CpuMeter.Sample cpuFrom = cpu.sample();
        long lastTick = t0;
        long nextTick = t0 + TimeUnit.SECONDS.toNanos(1);
        while (true) {
            long now = System.nanoTime();
            long boundary = measuredFrom < 0 ? t0 + warmupNanos : t0 + endNanos;
            long next = Math.min(nextTick, boundary);
            if (now < next) {
                TimeUnit.NANOSECONDS.sleep(next - now);
                continue;
            }
            boolean inWarmup = measuredFrom < 0;
            interval = pairs.getIntervalHistogram(interval);
            Histogram acq = acquires.getIntervalHistogram();
            Histogram rel = releases.getIntervalHistogram();
            if (!inWarmup) {
                pairTotal.add(interval);
                acquireTotal.add(acq);
                releaseTotal.add(rel);
            }
            double seconds = (now - lastTick) / 1e9;
            progress.accept(new Tick(
                    (now - t0) / 1e9,
                    totalSeconds,
                    inWarmup,
                    seconds <= 0 ? 0 : interval.getTotalCount() / seconds,
                    LoadReport.ms(interval, 50),
                    LoadReport.ms(interval, 99),
                    errorCount()));
            lastTick = now;
            if (now >= nextTick) {
                nextTick += TimeUnit.SECONDS.toNanos(1);
            }
            if (inWarmup && now >= t0 + warmupNanos) {
                measuredFrom = now;
                cpuFrom = cpu.sample();
                errors = new ConcurrentHashMap<>();
            } else if (!inWarmup && now >= t0 + endNanos) {
                stopping = true;
                CpuMeter.CpuUse used = CpuMeter.perPair(cpuFrom, cpu.sample(), pairTotal.getTotalCount());
                Map<String, Long> seen = new TreeMap<>();
                errors.forEach((k, v) -> seen.put(k, v.sum()));
                return new LoadReport(
                        settings, (now - measuredFrom) / 1e9, pairTotal, acquireTotal, releaseTotal, seen, used);
            }
        }
    }

    private long errorCount() {
        long n = 0;
        for (LongAdder a : errors.values()) {
            n += a.sum();
        }
        return n;
    }

    private static void joinAll(List<Thread> threads, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        for (Thread t : threads) {
            long left = deadline - System.nanoTime();
            if (left > 0) {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }
    }

    private static void closeAll(List<LockClient> clients) {
        // In parallel: each close ends a session with a round trip.
        clients.stream().distinct().toList().parallelStream().forEach(c -> {
            try {
                c.close();
            } catch (RuntimeException e) {
                // the server frees it when the session expires
            }
        });
    }

    /** A progress line: "[ 12s/25s] measure   21,345 pairs/s  p99   4.10 ms  errors 0". */
    public static String progressLine(Tick t, LoadSettings settings) {
        int width = 20;
        int filled = t.totalSeconds() <= 0
                ? width
                : (int) Math.min(width, Math.round(width * t.elapsedSeconds() / t.totalSeconds()));
        return String.format(
                Locale.ROOT,
                "[%s%s] %3.0fs/%.0fs %-7s %,9.0f %s  p99 %7s ms  errors %d",
                "#".repeat(filled),
                ".".repeat(width - filled),
                t.elapsedSeconds(),
                t.totalSeconds(),
                t.warmup() ? "warmup" : "measure",
                t.rate(),
                settings.contended() ? "handoffs/s" : "pairs/s",
                LoadReport.fmt(t.p99Ms(), 2),
                t.errors());
    }

    /**
     * One second of a run as one line: "second  12 measure     1,234 pairs/s  p50    0.81 ms  p99    3.20 ms
     * errors 0", where {@code errors} counts those of that second alone ({@code errorsBefore}: the tick's count at
     * the line before, in the same phase).
     */
    public static String secondLine(Tick t, long errorsBefore, LoadSettings settings) {
        return String.format(
                Locale.ROOT,
                "second %3.0f %-7s %,9.0f %s  p50 %7s ms  p99 %7s ms  errors %d",
                t.elapsedSeconds(),
                t.warmup() ? "warmup" : "measure",
                t.rate(),
                settings.contended() ? "handoffs/s" : "pairs/s",
                LoadReport.fmt(t.p50Ms(), 2),
                LoadReport.fmt(t.p99Ms(), 2),
                Math.max(0, t.errors() - errorsBefore));
    }

    /**
     * Reads {@code 123} or {@code 123,456}.
     *
     * @throws IllegalArgumentException for anything but positive process ids
     */
    public static List<Long> parsePids(String text) {
        List<Long> pids = new ArrayList<>();
        for (String part : text.split(",", -1)) {
            long pid;
            try {
                pid = Long.parseLong(part.strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(
                        "--server-pid takes process ids such as 1234 or 1234,1240, not '" + text + "'");
            }
            if (pid <= 0) {
                throw new IllegalArgumentException("--server-pid takes positive process ids, not " + pid);
            }
            pids.add(pid);
        }
        return pids;
    }

    /** Appends {@code report} as one line to a TSV file, with a header if the file is new. */
    public static void appendTsv(Path file, String label, LoadReport report) throws IOException {
        StringBuilder text = new StringBuilder();
        if (!Files.exists(file) || Files.size(file) == 0) {
            text.append(LoadReport.tsvHeader()).append('\n');
        }
        text.append(report.tsv(label)).append('\n');
        Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private static final String USAGE = "usage: LoadGenerator --backend URI [--clients N] [--locks M] [--duration 20s]"
            + " [--warmup 5s] [--wait 30s] [--label NAME] [--tsv FILE] [--server-pid PID[,PID...]]";

    /** Command-line entry point; see the class comment. Exit code 0, 1 on errors during the run, 64 bad usage. */
    public static void main(String[] args) throws Exception {
        String backend = null;
        String label = null;
        Path tsv = null;
        int clients = 1;
        Integer locks = null;
        Duration duration = Duration.ofSeconds(20);
        Duration warmup = Duration.ofSeconds(5);
        Duration wait = Duration.ofSeconds(30);
        List<Long> serverPids = new ArrayList<>();
        LoadSettings settings;
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
                    case "--clients" -> clients = Integer.parseInt(v);
                    case "--locks" -> locks = Integer.parseInt(v);
                    case "--duration" -> duration = LoadSettings.parseDuration(v);
                    case "--warmup" -> warmup = LoadSettings.parseDuration(v);
                    case "--wait" -> wait = LoadSettings.parseDuration(v);
                    case "--label" -> label = v;
                    case "--tsv" -> tsv = Path.of(v);
                    case "--server-pid" -> serverPids.addAll(parsePids(v));
                    default -> throw new IllegalArgumentException("unknown option " + option[0]);
                }
            }
            settings = new LoadSettings(backend, clients, locks == null ? clients : locks, duration, warmup, wait);
            meter = CpuMeter.of(serverPids);
        } catch (IllegalArgumentException e) {
            System.err.println("LoadGenerator: " + e.getMessage() + "\n" + USAGE);
            System.exit(64);
            return;
        }
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        boolean terminal = System.console() != null;
        LoadReport report = new LoadGenerator(settings, meter).run(t -> {
            if (terminal) {
                System.err.print("\r" + progressLine(t, settings));
                System.err.flush();
            }
        });
        if (terminal) {
            System.err.println();
        }
        report.print(out);
        if (tsv != null) {
            appendTsv(tsv, label == null ? settings.describe() : label, report);
        }
        System.exit(report.errorCount() == 0 ? 0 : 1);
    }
}
