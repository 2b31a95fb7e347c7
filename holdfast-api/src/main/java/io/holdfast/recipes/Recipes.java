package io.holdfast.recipes;

import io.holdfast.DistributedBarrier;
import io.holdfast.DistributedLatch;
import io.holdfast.Election;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.Ticker;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The recipes of one client, built from its locks, registers and watches and timed by its clock:
 * elections, count-down latches, cyclic barriers and waits for a free lock. A {@link LockClient}
 * implementation makes one with its own ticker and scheduler and answers {@link
 * LockClient#election}, {@link LockClient#latch}, {@link LockClient#barrier} and {@link
 * LockClient#awaitFree} from it; applications call those methods, not this class.
 *
 * <p><b>Guarantees.</b> A recipe measures time with the ticker given here only, and its timeouts
 * are timers on the scheduler given here, so a test that moves a fake ticker and a manual scheduler
 * (the testkit's) moves the recipes' timeouts with them. A timer the scheduler refuses (the client
 * is closed) fires at once: the wait ends with its final read.
 *
 * <p><b>Does not</b> own the scheduler (it never shuts it down), and does not run a recipe's
 * requests on it: a timer only starts the final read. A blocking wait also gives up in real time,
 * a grace after its timeout, so that a scheduler that never runs cannot hang its caller.
 */
public final class Recipes {
    private final LockClient client;
    private final Ticker ticker;
    private final ScheduledExecutorService scheduler;

    /**
     * @param client the client whose locks, registers and watches the recipes use
     * @param ticker the client's clock ({@link io.holdfast.ClientOptions#ticker()})
     * @param scheduler where the client's timers run
     */
    public Recipes(LockClient client, Ticker ticker, ScheduledExecutorService scheduler) {
        if (client == null || ticker == null || scheduler == null) {
            throw new InvalidArgumentException("recipes need a client, a ticker and a scheduler");
        }
        this.client = client;
        this.ticker = ticker;
        this.scheduler = scheduler;
    }

    /** What {@link LockClient#election} answers. */
    public Election election(String name) {
        return new LockElection(this, name);
    }

    /** What {@link LockClient#latch} answers. */
    public DistributedLatch latch(String name) {
        return new RegisterLatch(this, name);
    }

    /** What {@link LockClient#barrier} answers. */
    public DistributedBarrier barrier(String name, int parties) {
        return new RegisterBarrier(this, name, parties);
    }

    /** What {@link LockClient#awaitFree} answers. */
    public boolean awaitFree(String name, Duration timeout) throws InterruptedException {
        return FreeWait.await(this, name, timeout);
    }

    LockClient client() {
        return client;
    }

    /** The client's clock, in nanoseconds. */
    long nanos() {
        return ticker.nanos();
    }

    /** Runs the task after the delay on the client's scheduler; at once, and null, if it refuses. */
    ScheduledFuture<?> schedule(Runnable task, Duration delay) {
        try {
            return scheduler.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException closed) {
            task.run();
            return null;
        }
    }
}
