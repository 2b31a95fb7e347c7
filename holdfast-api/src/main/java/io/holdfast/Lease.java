package io.holdfast;

import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * One grant of a lock, read lock, write lock or semaphore permits: the handle through which it is
 * used and given back.
 *
 * <p><b>Guarantees.</b> While {@link #isValid()} is true and the service is healthy, no other lease
 * of an incompatible mode on the same name is valid. Every grant carries a {@linkplain
 * #fencingToken() fencing token} larger than any token granted before it on any name of the same
 * service or store. The lease belongs to this handle, not to a thread: any thread may release it,
 * and the renewal of its lease timeout stops when it is released.
 *
 * <p><b>What it does not guarantee.</b> Validity is the client's view. A process that stalls (GC,
 * SIGSTOP, a VM migration) can still believe it holds a lease that the service has already taken
 * back and granted to someone else. Correctness therefore needs the protected resource to check
 * the fencing token: refuse any write whose token is lower than the highest it has seen.
 *
 * <p><b>Failure story.</b> A holder's network cable is pulled. Its heartbeats stop; after the
 * session TTL the service expires the session and grants the lock to the next waiter with a higher
 * token. When the holder's client notices (its own TTL runs out without an acknowledged heartbeat)
 * it marks the lease lost and calls the {@link #onLost} listeners. If the holder still writes with
 * its old token, a fencing store refuses the write.
 */
public interface Lease extends AutoCloseable {
    /** The name of the lock or semaphore. */
    String name();

    /** How the lease holds its resource. */
    LockMode mode();

    /** The number of permits held: 1 for locks. */
    int permits();

    /**
     * The fencing token of this grant: positive, and larger than every token granted before it by
     * the same service or store. Pass it to the resource with every write.
     */
    long fencingToken();

    /** True until the lease is released or known to be lost. */
    boolean isValid();

    /**
     * Throws if the lease is no longer held.
     *
     * @throws LockLostException if the lease was taken away
     * @throws NotOwnerException if it was released
     */
    void checkValid();

    /**
     * Registers a listener called once, on a client thread, when the lease is lost (not when it is
     * released). Called at once if the lease is already lost. Listeners must not block.
     */
    void onLost(Consumer<? super LockLostException> listener);

    /**
     * Gives the lease back. Idempotent: releasing a released lease does nothing.
     *
     * @throws LockLostException if the lease was lost before it could be released: the caller
     *     should assume that its critical section may have overlapped another holder's
     * @throws UnavailableException if the service could not be reached or its answer was lost; the
     *     lease is then given up by the caller. The Holdfast server's client ({@code holdfast://})
     *     and {@code mem:} go on sending the release in the background for as long as their session
     *     lives, so the lock is not left held by a live session; in any case it is freed by its lease
     *     timeout or when the session ends
     */
    void release();

    /** Asynchronous {@link #release()}; the future fails with the same exceptions. */
    CompletableFuture<Void> releaseAsync();

    /** Same as {@link #release()}, for try-with-resources. */
    @Override
    void close();
}
