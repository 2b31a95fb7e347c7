package io.holdfast.recipes;

import io.holdfast.DistributedBarrier;
import io.holdfast.DistributedLatch;
import io.holdfast.DoubleBarrier;
import io.holdfast.Election;
import io.holdfast.GroupMembership;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.Ticker;
import io.holdfast.Watch;
import io.holdfast.WatchListener;
import io.holdfast.WatchTarget;
import io.holdfast.internal.PollingFeed;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The recipes of one client, built from its locks, registers, keys and watches and timed by its
 * clock: elections, count-down latches, cyclic barriers, waits for a free lock, group membership,
 * double barriers, and the watch that polls where the service keeps no record of its changes. A
 * {@link LockClient} implementation makes one with its own ticker, scheduler and executor and
 * answers {@link LockClient#election}, {@link LockClient#latch}, {@link LockClient#barrier}, {@link
 * LockClient#awaitFree}, {@link LockClient#group}, {@link LockClient#doubleBarrier} and (unless it
 * watches in a way of its own) {@link LockClient#watch(WatchTarget, WatchListener)} from it ({@link
 * io.holdfast.spi.AbstractLockClient} does); applications call those methods, not this class.
 *
 * <p><b>Guarantees.</b> A recipe measures time with the ticker given here only, its timeouts are
 * timers on the scheduler given here, and what it runs off its caller's thread (the final read of a
 * wait, a polling watch's loop) runs on the executor given here: a recipe reads no clock and starts
 * no thread of its own. So a test that moves a fake ticker and a manual scheduler (the testkit's)
 * moves the recipes' timeouts with them. A timer the scheduler refuses (the client is closed) fires
 * at once: the wait ends with its final read; a final read the executor refuses runs on the timer's
 * thread.
 *
 * <p><b>Does not</b> own the scheduler or the executor (it never shuts them down), and does not run
 * a recipe's requests on the scheduler: a timer only starts the final read. A blocking wait also
 * gives up in real time, a grace after its timeout, so that a scheduler that never runs cannot hang
 * its caller.
 */
public final class Recipes {
    private final LockClient client;
    private final Ticker ticker;
    private final ScheduledExecutorService scheduler;
    private final Executor executor;

    /**
     * @param client the client whose locks, registers, keys and watches the recipes use
     * @param ticker the client's clock ({@link io.holdfast.ClientOptions#ticker()})
     * @param scheduler where the client's timers run
     * @param executor where the recipes' work off the caller's thread runs: the final reads of
     *     waits, and each polling watch's loop for the watch's life, so it must not be bounded below
     *     the number of watches open (a cached pool of the client's)
     */
    public Recipes(LockClient client, Ticker ticker, ScheduledExecutorService scheduler, Executor executor) {
        if (client == null || ticker == null || scheduler == null || executor == null) {
            throw new InvalidArgumentException("recipes need a client, a ticker, a scheduler and an executor");
        }
        this.client = client;
        this.ticker = ticker;
        this.scheduler = scheduler;
        this.executor = executor;
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

    /** What {@link LockClient#group} answers. */
    public GroupMembership group(String group) {
        return new KeyGroupMembership(this, group);
    }

    /** What {@link LockClient#doubleBarrier} answers. */
    public DoubleBarrier doubleBarrier(String name, int parties) {
        return new KeyDoubleBarrier(this, name, parties);
    }

    /**
     * What {@link LockClient#watch(WatchTarget, WatchListener)} answers for a client that keeps no
     * record of its changes: it polls the watched state through the client ({@link PollingFeed})
     * every {@link PollingFeed#INTERVAL}, on this executor, pausing after a failed read on this
     * scheduler.
     *
     * @throws io.holdfast.UnsupportedFeatureException if the client cannot inspect what is watched
     * @throws InvalidArgumentException if the target or the listener is null
     */
    public Watch watch(WatchTarget target, WatchListener listener) {
        return PollingFeed.watch(client, target, listener, PollingFeed.Wakeup.SLEEP, ticker, executor, scheduler);
    }

    LockClient client() {
        return client;
    }

    /** The client's clock, in nanoseconds. */
    long nanos() {
        return ticker.nanos();
    }

    /** Runs the task on the client's executor; on this thread if it refuses (the client is closed). */
    void execute(Runnable task) {
        try {
            executor.execute(task);
        } catch (RejectedExecutionException closed) {
            task.run();
        }
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
