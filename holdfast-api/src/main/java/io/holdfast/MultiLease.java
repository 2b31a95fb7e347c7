package io.holdfast;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The grants of a {@link DistributedMultiLock}: one {@link Lease} per name, each with its own
 * fencing token and watchdog, held and given back as a unit.
 *
 * <p><b>What it guarantees.</b> {@link #isValid()} is true only while every one of its leases is
 * valid; the loss of any one of them makes the whole unit lost (its listeners are told once) and
 * {@link #release()} still gives back the others. Each write to a resource guarded by one of the
 * names carries that name's token ({@link #fencingTokens()}).
 *
 * <p><b>What it does not guarantee.</b> That the leases end together: one can be lost (its lease
 * expired, it was revoked) while the others are still held until released.
 */
public interface MultiLease extends AutoCloseable {
    /** One lease per name, in the order of {@link DistributedMultiLock#names()}. */
    List<Lease> leases();

    /** Each name's fencing token, in the order of the names. */
    Map<String, Long> fencingTokens();

    /** True while every lease is valid. */
    boolean isValid();

    /**
     * Throws if any lease is no longer held.
     *
     * @throws LockLostException if one was taken away
     * @throws NotOwnerException if the unit was released
     */
    void checkValid();

    /**
     * Registers a listener called once, on a client thread, when the first of the leases is lost
     * (not when they are released). Called at once if one is already lost. Must not block.
     */
    void onLost(Consumer<? super LockLostException> listener);

    /**
     * Gives every lease back, each even if another fails. Idempotent.
     *
     * @throws LockLostException if any lease was lost before it could be released
     * @throws UnavailableException if a release could not reach the service (see {@link
     *     Lease#release()})
     */
    void release();

    /** Asynchronous {@link #release()}. */
    CompletableFuture<Void> releaseAsync();

    /** Same as {@link #release()}, for try-with-resources. */
    @Override
    void close();
}
