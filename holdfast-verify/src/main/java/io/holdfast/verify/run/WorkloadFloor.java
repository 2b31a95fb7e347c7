package io.holdfast.verify.run;

import io.holdfast.verify.client.Workload;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The least work a run's clients must have done before its final phase: the workload goes on after
 * the heal until the clients have completed {@link #MIN_OPERATIONS} workload operations between
 * them, or {@link #MAX_EXTRA} has passed.
 *
 * <p><b>Why.</b> A run's workload lasts a fixed time, and what a slow machine does in it varies a
 * hundredfold: in a CI-like step (three planted-bug runs and a soak at once, load 18-37, 2026-11-30)
 * the three runs that started together completed 14, 40 and 24 workload operations in their 5 s,
 * while runs started later completed 100-1,800, and release-by-anyone (baseline) went uncaught at
 * seed 1 for want of operations, not of faults. A floor of operations makes what a run checks
 * depend on its seed, not on its neighbours.
 *
 * <p><b>Not guaranteed.</b> The floor is reached after the heal, on a healed cluster: a fault's
 * window itself is not lengthened. A run that does not reach it within {@link #MAX_EXTRA} goes on
 * to its final phase anyway (and says so): a service that does not serve is the availability and
 * liveness checkers' to judge, not this class's.
 */
final class WorkloadFloor {
    /** Completed workload operations, all clients together, that a run reaches before its end. */
    static final int MIN_OPERATIONS = 60;

    /** The most the workload is lengthened by. */
    static final Duration MAX_EXTRA = Duration.ofSeconds(20);

    private static final String WORKLOAD = "\"phase\":\"" + Workload.PHASE + "\"";
    private static final String INVOKE = "\"type\":\"INVOKE\"";

    private WorkloadFloor() {}

    /**
     * Waits until {@code histories} hold {@code min} completed workload operations, or {@code
     * extra} has passed.
     *
     * @param nanoTime the clock
     * @param pause sleeps between two counts
     * @return the operations counted last
     */
    static long await(List<Path> histories, long min, Duration extra, LongSupplier nanoTime, Pause pause)
            throws InterruptedException {
        long deadline = nanoTime.getAsLong() + extra.toNanos();
        long done = completed(histories);
        while (done < min && nanoTime.getAsLong() - deadline < 0) {
            pause.sleep(Duration.ofMillis(250));
            done = completed(histories);
        }
        return done;
    }

    /** Completed workload operations (any result but INVOKE) in the files; a missing file has none. */
    static long completed(List<Path> histories) {
        long n = 0;
        for (Path f : histories) {
            try (BufferedReader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.contains(WORKLOAD) && !line.contains(INVOKE) && line.endsWith("}")) {
                        n++;
                    }
                }
            } catch (NoSuchFileException e) {
                // not started yet
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return n;
    }

    /** How the wait sleeps (a test's moves its clock instead). */
    @FunctionalInterface
    interface Pause {
        void sleep(Duration d) throws InterruptedException;
    }
}
