package io.holdfast;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A count-down latch shared by every client of the service ({@link LockClient#latch(String)}): one
 * side sets a count, workers count it down, and anyone waits until it reaches zero. Like {@link
 * java.util.concurrent.CountDownLatch}, re-armable like Redisson's {@code RCountDownLatch} and
 * Hazelcast's {@code ICountDownLatch}: {@link #trySetCount} sets a new count only while the latch
 * is at zero.
 *
 * <pre>{@code
 * DistributedLatch loaded = client.latch("jobs/nightly/loaded");
 * loaded.trySetCount(shards);                        // the coordinator; false while a count runs
 * ...
 * loaded.countDown();                                // each shard's worker, when its part is done
 * ...
 * if (!loaded.await(Duration.ofMinutes(10))) {       // anyone, in any process
 *     log.warn("{} shards still loading", loaded.count());
 * }
 * }</pre>
 *
 * <p>Built from the provider's own primitives ({@link Capability#REGISTERS}): the register of the
 * latch's name holds its count and a <em>generation</em>, a number that grows each time {@link
 * #trySetCount} arms it. Every change is a compare-and-set at the version read, and waiting is a
 * watch of the register ({@link LockClient#watch(WatchTarget, WatchListener)}), not polling by the
 * caller.
 *
 * <p><b>Guarantees.</b> The count never goes below zero. Each {@code countDown} that returns
 * counted exactly once, however many clients count at the same moment. Of several {@code
 * trySetCount} racing at zero, exactly one wins. {@link #await} returns true once the count it
 * found when it started has reached zero, even if the latch was armed again before the waiter
 * looked (the generation tells it): a waiter never misses its release, and never mistakes a new
 * count's zero for its own. A latch never set, or counted down, is open: {@code await} returns true
 * at once.
 *
 * <p><b>Not guaranteed.</b> Counts do not belong to sessions: a worker that dies before counting
 * down never will, and the waiters time out (there is no wait without a timeout, on purpose). A
 * {@code countDown} that fails with {@link UnavailableException} may or may not have counted; calling
 * it again may count twice. The register of the name is the latch's: a register, barrier or election
 * of the same name breaks it (what it finds there that is not a latch is refused with {@link
 * InvalidArgumentException}).
 *
 * <p><b>Failure story.</b> One of five shard workers is killed before it counts down. The count
 * stays at 1; every {@code await} returns false at its timeout, and {@link #count()} tells the
 * coordinator how many are missing. It re-runs the shard, whose worker counts down: the waiters
 * that are still waiting return true.
 */
public interface DistributedLatch {
    /** The name: of the latch, and of the register that holds it. */
    String name();

    /**
     * Sets the count, if the latch is at zero (never set, or counted down).
     *
     * @param count how many {@link #countDown()} open it; 0 sets nothing (true if at zero)
     * @return true if set; false if a count is running (nothing changed)
     * @throws InvalidArgumentException if {@code count} is negative
     * @throws UnsupportedFeatureException without {@link Capability#REGISTERS}
     */
    boolean trySetCount(long count);

    /**
     * Counts down by one, opening the latch at zero. At zero it does nothing: the count never goes
     * below.
     *
     * @throws UnsupportedFeatureException without {@link Capability#REGISTERS}
     */
    void countDown();

    /** The current count: 0 when open or never set. */
    long count();

    /**
     * Waits until the count found at the start reaches zero, or the timeout passes.
     *
     * @param timeout how long to wait, 0 to {@link AcquireOptions#MAX_DURATION}; 0 only reads
     * @return true if it reached zero (or was already); false if the timeout passed first
     * @throws InterruptedException if interrupted while waiting (the wait is ended)
     * @throws InvalidArgumentException if the timeout is null, negative or too long
     * @throws UnsupportedFeatureException without {@link Capability#REGISTERS}
     */
    boolean await(Duration timeout) throws InterruptedException;

    /**
     * Asynchronous {@link #await(Duration)}: completes with true or false as it would return.
     * Cancelling the future ends the wait and its watch.
     */
    CompletableFuture<Boolean> awaitAsync(Duration timeout);
}
