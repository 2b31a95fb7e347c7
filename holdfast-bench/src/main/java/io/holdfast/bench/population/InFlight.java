package io.holdfast.bench.population;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/** How the crowd grows and ends: many asynchronous requests, a bounded number in flight. */
final class InFlight {
    /** The most requests in flight at once. */
    static final int MOST = 256;

    private InFlight() {}

    /**
     * As {@link #runAll}, each task started no sooner than {@code (i - from) / perSecond} seconds after the call
     * when {@code perSecond > 0}.
     */
    static void runPaced(int from, int to, double perSecond, IntFunction<CompletableFuture<?>> task)
            throws InterruptedException {
        long start = System.nanoTime();
        runAll(from, to, i -> {
            if (perSecond > 0) {
                long due = start + (long) ((i - from) * 1e9 / perSecond);
                try {
                    TimeUnit.NANOSECONDS.sleep(due - System.nanoTime());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return CompletableFuture.failedFuture(e);
                }
            }
            return task.apply(i);
        });
    }

    /**
     * Runs {@code task(i)} for i in [from, to), at most {@value #MOST} in flight, and waits for all;
     * stops starting new ones at the first error, and then throws it (an {@link
     * IllegalStateException} naming its cause) once those in flight have ended.
     */
    static void runAll(int from, int to, IntFunction<CompletableFuture<?>> task) throws InterruptedException {
        Semaphore inFlight = new Semaphore(MOST);
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        for (int i = from; i < to && failures.isEmpty(); i++) {
            inFlight.acquire();
            task.apply(i).whenComplete((ok, e) -> {
                if (e != null) {
                    failures.add(e);
                }
                inFlight.release();
            });
        }
        inFlight.acquire(MOST);
        if (!failures.isEmpty()) {
            Throwable e = failures.get(0);
            throw new IllegalStateException(
                    "growing the population failed: " + (e.getCause() != null ? e.getCause() : e), e);
        }
    }
}
