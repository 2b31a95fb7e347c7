package io.holdfast;

import java.time.Duration;

/**
 * A double barrier over {@link Keys} ({@link LockClient#doubleBarrier(String, int)}; Curator's
 * {@code DistributedDoubleBarrier}): {@code parties} sessions {@link #enter} together, compute, and
 * {@link #leave} together. Each party's presence is the key {@code <name>/entered/<session>},
 * attached to its session; the first party to see {@code parties} of them writes {@code
 * <name>/ready}, which lets everyone in.
 *
 * <pre>{@code
 * DoubleBarrier round = client.doubleBarrier("jobs/reindex/round-7", 3);
 * if (round.enter(Duration.ofMinutes(1))) {
 *     try { work(); } finally { round.leave(Duration.ofMinutes(1)); }
 * }
 * }</pre>
 *
 * <p><b>Guarantees</b>: {@link #enter} returns true only once {@code parties} sessions were in the
 * barrier at one point; {@link #leave} returns true only once no session is in it. A party that
 * gives up entering takes its presence back in the same step as it checks that the barrier has not
 * opened (a transaction): it either entered or left no trace. A party whose session ends (closed,
 * expired) is out of the barrier in the same step.
 *
 * <p><b>Does not</b> run rounds back to back under one name: the last parties to leave delete
 * {@code ready}, and a party entering the next round before they did would pass at once. Give each
 * round a name of its own. Waits are measured on the client's clock ({@link
 * ClientOptions#ticker()}), and a timeout wakes them on the client's scheduler ({@link
 * ClientOptions#scheduler()}).
 *
 * <p><b>Failure story</b>: one of three workers is SIGKILLed after entering, before the barrier
 * opened. When its session's TTL passes its presence is deleted, so the other two keep waiting
 * until a third party enters (a restarted worker) or they time out and take their presences back.
 * Killed after the barrier opened, it holds up the others' {@link #leave} for at most its session's
 * TTL.
 *
 * <p>Needs {@link Capability#KEYS}, {@link Capability#SESSION_KEYS} and {@link
 * Capability#TRANSACTIONS}.
 */
public interface DoubleBarrier {
    /** The barrier's name: its keys are under {@code <name>/}. */
    String name();

    /** How many sessions enter together. */
    int parties();

    /**
     * Enters and waits until {@code parties} sessions are in.
     *
     * @return true once they were; false when {@code timeout} passed first (this session's presence
     *     was taken back)
     * @throws InvalidArgumentException for a null or negative timeout
     * @throws HoldfastException when the client or its session ends while waiting
     */
    boolean enter(Duration timeout) throws InterruptedException;

    /**
     * Leaves and waits until no session is in; the parties that see that delete {@code ready}.
     *
     * @return true once nobody was in; false when {@code timeout} passed first (this session is out
     *     all the same)
     * @throws InvalidArgumentException for a null or negative timeout
     * @throws HoldfastException when the client or its session ends while waiting
     */
    boolean leave(Duration timeout) throws InterruptedException;
}
