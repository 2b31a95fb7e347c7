package io.holdfast;

import java.time.Duration;

/**
 * A barrier where a fixed number of parties meet ({@link LockClient#barrier(String, int)}): each
 * {@link #await} waits until {@link #parties()} of them, in any processes, have called it; then all
 * pass together and the barrier begins its next <em>generation</em>, ready for the next meeting.
 * Cyclic, like {@link java.util.concurrent.CyclicBarrier}, and like it, {@code await} tells each
 * party its arrival index: exactly one per generation gets 0, the party whose arrival completed it,
 * which is where to run a once-per-meeting action.
 *
 * <pre>{@code
 * DistributedBarrier round = client.barrier("simulation/step", workers);
 * for (int step = 0; step < steps; step++) {
 *     compute(step);
 *     if (round.await(Duration.ofMinutes(1)) == 0) {   // LockTimeoutException if one is missing
 *         publish(step);                                // the last to arrive, once per step
 *     }
 * }
 * }</pre>
 *
 * <p>Built from the provider's own primitives ({@link Capability#REGISTERS}): the register of the
 * barrier's name holds the generation, how many have arrived in it, and the number of parties.
 * Arriving and withdrawing are compare-and-sets at the version read; waiting is a watch of the
 * register ({@link LockClient#watch(WatchTarget, WatchListener)}).
 *
 * <p><b>Guarantees.</b> No party passes before {@code parties} arrivals were counted in its
 * generation, and all of those pass. Arrivals racing each other are each counted once. A party
 * that times out (or is interrupted) <em>withdraws</em> its arrival, so the generation still needs
 * {@code parties} others: unlike {@code CyclicBarrier}, a timeout breaks nothing for the parties
 * still waiting, nor for the next generation. A party never both withdraws and passes: if the
 * generation completes while it gives up, it passes ({@code await} returns its index; after an
 * interrupt, with the thread's interrupt flag set again). Handles must agree on the number of
 * parties: one that disagrees with a generation under way is refused.
 *
 * <p><b>Not guaranteed.</b> Arrivals do not belong to sessions (registers do not): a party that
 * dies <em>after</em> arriving still counts, and the generation can complete with it; a party that
 * dies <em>before</em> arriving is missing, and the others time out. Arrival indices other than 0
 * can repeat in a generation where a party withdrew. There is no {@code reset()} and no "broken"
 * state: a generation simply waits for enough parties.
 *
 * <p><b>Failure story.</b> One of three workers is killed before it reaches step 7. The two others
 * wait in {@code await}, time out with {@link LockTimeoutException} and withdraw, so step 7's
 * generation is empty again. The worker restarts and all three call {@code await} for step 7: it
 * completes, and the following steps meet as before.
 */
public interface DistributedBarrier {
    /** The most parties a barrier can have. */
    int MAX_PARTIES = 10_000;

    /** The name: of the barrier, and of the register that holds it. */
    String name();

    /** How many parties each generation waits for. */
    int parties();

    /**
     * How many parties have arrived in the current generation and are waiting (0 just after one
     * completed).
     *
     * @throws UnsupportedFeatureException without {@link Capability#REGISTERS}
     */
    int arrived();

    /**
     * Arrives, and waits until {@link #parties()} parties have arrived in this generation.
     *
     * @param timeout how long to wait, 0 to {@link AcquireOptions#MAX_DURATION}
     * @return the arrival index: {@code parties() - 1} for the first to arrive, 0 for the last (the
     *     one that completed the generation)
     * @throws LockTimeoutException if the generation did not complete in time (this party withdrew)
     * @throws InterruptedException if interrupted while waiting (this party withdrew)
     * @throws InvalidArgumentException if the timeout is null, negative or too long, or a
     *     generation under way waits for another number of parties
     * @throws UnsupportedFeatureException without {@link Capability#REGISTERS}
     */
    int await(Duration timeout) throws InterruptedException;
}
