package io.holdfast.cli;

import io.holdfast.Lease;
import io.holdfast.LockClient;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code holdfast demo}: worker threads compete for a few locks, each critical section incrementing the lock's
 * counter the unsafe way (read, pause, write), so that any overlap would lose an increment. Prints every grant
 * with its fencing token, then checks that every counter is exact, that no two critical sections on a lock
 * overlapped and that each lock's tokens strictly increased. Exit 0 when all hold, 1 otherwise.
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        description = {
            "Show locks at work: threads compete for a few locks, print each grant with its fencing token, then"
                    + " check the counters they protect.",
            "Runs in-process (mem:) unless --backend says otherwise.",
            "'holdfast demo coupons' runs the coupon service: pessimistic, optimistic and no locking compared"
                    + " (in a repository checkout)."
        })
final class DemoCommand implements Callable<Integer> {
    private static final String MEM = "mem:";
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Spec
    CommandSpec spec;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "4", description = "Worker threads (1-64).")
    int threads;

    @Option(names = "--locks", paramLabel = "N", defaultValue = "2", description = "Locks they compete for (1-16).")
    int locks;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "5", description = "Critical sections per thread.")
    int rounds;

    @Option(
            names = "--backend",
            paramLabel = "URI",
            defaultValue = MEM,
            description = "Where the locks live (default: ${DEFAULT-VALUE}, in this process).")
    String backend;

    @Override
    public Integer call() throws InterruptedException {
        checkRange("--threads", threads, 64);
        checkRange("--locks", locks, 16);
        checkRange("--rounds", rounds, 10_000);
        PrintWriter out = spec.commandLine().getOut();
        try (LockClient client = Backends.open(backend)) {
            out.printf("%d threads x %d rounds on %d locks at %s%n", threads, rounds, locks, backend);
            Run run = new Run(client, out);
            long started = System.nanoTime();
            run.execute();
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            return run.report(millis);
        }
    }

    private static void checkRange(String option, int value, int max) {
        if (value < 1 || value > max) {
            throw new CliFailure(ExitCodes.USAGE, option + " must be between 1 and " + max + ", not " + value);
        }
    }

    /** One run: the shared state the locks protect, and what the checks found. */
    private final class Run {
        private final LockClient client;
        private final PrintWriter out;
        private final List<String> names = new ArrayList<>();
        // Written only by the holder of lock i; atomics so that a broken lock shows up as a wrong count,
        // not as a data race the JVM is free to hide.
        private final AtomicLongArray counters;
        private final AtomicLongArray lastToken;
        private final AtomicIntegerArray inside;
        private final AtomicLong overlaps = new AtomicLong();
        private final AtomicLong tokenFaults = new AtomicLong();

        Run(LockClient client, PrintWriter out) {
            this.client = client;
            this.out = out;
            for (int i = 0; i < locks; i++) {
                names.add("demo/counter-" + i);
            }
            counters = new AtomicLongArray(locks);
            lastToken = new AtomicLongArray(locks);
            inside = new AtomicIntegerArray(locks);
        }

        void execute() throws InterruptedException {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> workers = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int worker = t;
                    workers.add(pool.submit(() -> {
                        work(worker);
                        return null;
                    }));
                }
                for (Future<?> f : workers) {
                    f.get(WAIT.toSeconds() * rounds, TimeUnit.SECONDS);
                }
            } catch (ExecutionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
            } catch (TimeoutException e) {
                throw new CliFailure(ExitCodes.CHECK_FAILED, "the workers did not finish in time", e);
            } finally {
                pool.shutdownNow();
            }
        }

        private void work(int worker) throws InterruptedException {
            for (int round = 0; round < rounds; round++) {
                int i = (worker + round) % locks;
                try (Lease lease = client.lock(names.get(i)).acquire(WAIT)) {
                    criticalSection(worker, i, lease.fencingToken());
                }
            }
        }

        private void criticalSection(int worker, int i, long token) throws InterruptedException {
            if (inside.incrementAndGet(i) != 1) {
                overlaps.incrementAndGet();
            }
            if (token <= lastToken.get(i)) {
                tokenFaults.incrementAndGet();
            }
            lastToken.set(i, token);
            long before = counters.get(i);
            Thread.sleep(2); // the "work": long enough for an overlap to lose an increment
            counters.set(i, before + 1);
            out.printf(
                    "  worker-%-2d %-16s token %-6d counter %d -> %d%n",
                    worker, names.get(i), token, before, before + 1);
            inside.decrementAndGet(i);
        }

        int report(long millis) {
            long expectedTotal = (long) threads * rounds;
            long total = 0;
            boolean countsOk = true;
            for (int i = 0; i < locks; i++) {
                long expected = expectedFor(i);
                long actual = counters.get(i);
                total += actual;
                countsOk &= actual == expected;
                out.printf("%-16s %d increments (expected %d)%n", names.get(i), actual, expected);
            }
            boolean ok = countsOk && overlaps.get() == 0 && tokenFaults.get() == 0 && total == expectedTotal;
            out.printf(
                    "%s: %d grants in %d ms, counters %s, %d overlaps, tokens %s%n",
                    ok ? "OK" : "FAILED",
                    total,
                    millis,
                    countsOk ? "exact" : "WRONG",
                    overlaps.get(),
                    tokenFaults.get() == 0 ? "strictly increasing per lock" : "NOT increasing (" + tokenFaults + ")");
            out.flush();
            return ok ? ExitCodes.OK : ExitCodes.CHECK_FAILED;
        }

        /** How many of the threads' rounds land on lock {@code i}: worker t's round r takes lock (t + r) mod locks. */
        private long expectedFor(int i) {
            long n = 0;
            for (int t = 0; t < threads; t++) {
                for (int r = 0; r < rounds; r++) {
                    if ((t + r) % locks == i) {
                        n++;
                    }
                }
            }
            return n;
        }
    }
}
