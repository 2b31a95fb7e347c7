package io.holdfast.bench.population;

import io.holdfast.AcquireOptions;
import io.holdfast.DistributedLock;
import io.holdfast.LockClient;
import io.holdfast.Ticker;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * One more client beside the population, on a lock of its own: W1 (one thread, acquire + release in a closed
 * loop) and the failover gap (the same loop running while the leader is killed). The lock is Holdfast's ({@link
 * #holdfast}) or ZooKeeper's through Curator ({@link CuratorProbeLock}): the same loop and measures for both.
 */
final class Probe implements AutoCloseable {
    /** The probe's one lock, on whichever service. */
    interface Lock extends AutoCloseable {
        /**
         * Takes the lock, waiting up to 30 s; returns what gives it back.
         *
         * @throws Exception if it was not taken (the loop counts it and goes on)
         */
        Held acquire() throws Exception;

        @Override
        void close();
    }

    /** A lock taken. */
    interface Held {
        void release() throws Exception;
    }

    /** W1 over a window: pairs per second and the acquire's latency percentiles in microseconds. */
    record W1(double pairsPerSecond, long p50Micros, long p99Micros, long errors) {}

    private static final AcquireOptions WAIT = AcquireOptions.waitUpTo(Duration.ofSeconds(30));

    private final Lock lock;
    private final Ticker ticker;

    Probe(Lock lock) {
        this(lock, Ticker.system());
    }

    Probe(Lock lock, Ticker ticker) {
        this.lock = lock;
        this.ticker = ticker;
    }

    /** Holdfast's lock {@code population/probe}, on a client of its own. */
    static Lock holdfast(String uri) {
        LockClient client = LockClient.open(uri, Crowd.oneOff());
        DistributedLock lock = client.lock("population/probe");
        return new Lock() {
            @Override
            public Held acquire() throws InterruptedException {
                return lock.acquire(WAIT)::release;
            }

            @Override
            public void close() {
                client.close();
            }
        };
    }

    /**
     * W1 for {@code window}, after as long a warm-up that is not counted; errors are counted and the
     * loop goes on. The warm-up keeps the probe client's first uses out of the figure (the idle
     * row's W1 is its client's first use). It does not warm the servers: on three idle nodes the
     * acquire path took about three minutes of one client's W1 to go from 27-62 pairs/s to 150-225
     * (2026-12-06, docs/benchmarks.md), so the idle row is a cold cluster's W1 unless the run was
     * {@link #prime primed}.
     */
    W1 w1(Duration window) throws InterruptedException {
        loop(window, null);
        return loop(window, new Histogram(3));
    }

    /**
     * The W1 loop for {@code duration} before any row, so that the first row's W1 is a warm
     * cluster's; returns the run's line that says what it did (not a row's figures).
     */
    String prime(Duration duration) throws InterruptedException {
        W1 primed = loop(duration, new Histogram(3));
        return String.format(
                Locale.ROOT,
                "primed: the extra client's W1 for %.0f s, not measured (%.0f pairs/s, acquire p50 %,d / p99 %,d µs,"
                        + " %d errors)",
                duration.toMillis() / 1000.0,
                primed.pairsPerSecond(),
                primed.p50Micros(),
                primed.p99Micros(),
                primed.errors());
    }

    /** The closed loop for {@code window}; its acquires' latencies into {@code acquires} when given. */
    private W1 loop(Duration window, Histogram acquires) throws InterruptedException {
        long errors = 0;
        long pairs = 0;
        long start = ticker.nanos();
        long end = start + window.toNanos();
        while (ticker.nanos() < end) {
            long t0 = ticker.nanos();
            try {
                Held held = lock.acquire();
                if (acquires != null) {
                    acquires.recordValue(Math.max(1, (ticker.nanos() - t0) / 1_000));
                }
                held.release();
                pairs++;
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                errors++;
                Thread.sleep(10);
            }
        }
        double seconds = (ticker.nanos() - start) / 1e9;
        return acquires == null
                ? null
                : new W1(pairs / seconds, acquires.getValueAtPercentile(50), acquires.getValueAtPercentile(99), errors);
    }

    /**
     * Runs the loop, calls {@code prepare} and then {@code kill} once it runs, and returns the milliseconds from the
     * kill (SIGKILL sent) to the end of the first successful acquire begun after the process was gone (-1 if none
     * within {@code limit}).
     */
    long failoverGapMillis(Killer prepare, Killer kill, Duration limit) throws InterruptedException {
        // Only a pair begun once the killed process is gone counts: one that the old leader granted between the
        // kill's mark and its death (the JVM's exit takes a moment) once gave a "gap" of 5 ms (2026-12-04).
        AtomicLong deadAt = new AtomicLong(Long.MAX_VALUE);
        AtomicLong firstAfter = new AtomicLong(-1);
        Thread loop = new Thread(
                () -> {
                    while (firstAfter.get() < 0 && !Thread.currentThread().isInterrupted()) {
                        try {
                            long began = System.nanoTime();
                            Held held = lock.acquire();
                            long now = System.nanoTime();
                            if (began > deadAt.get()) {
                                firstAfter.compareAndSet(-1, now);
                            }
                            held.release();
                        } catch (InterruptedException e) {
                            return;
                        } catch (Exception e) {
                            // unavailable while the members elect: the next try tells
                        }
                    }
                },
                "population-failover-probe");
        loop.setDaemon(true);
        loop.start();
        Thread.sleep(1_000);
        prepare.run();
        long killedAt = System.nanoTime();
        kill.run();
        deadAt.set(System.nanoTime());
        loop.join(limit.toMillis());
        loop.interrupt();
        long after = firstAfter.get();
        return after < 0 ? -1 : (after - killedAt) / 1_000_000;
    }

    /** What kills the leader, or readies the measures around its kill. */
    @FunctionalInterface
    interface Killer {
        void run() throws InterruptedException;
    }

    @Override
    public void close() {
        lock.close();
    }
}
