package io.holdfast;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.Lock;

/**
 * A named lock, exclusive or shared (the two halves of a {@link DistributedReadWriteLock}). A
 * handle is cheap and stateless; each successful acquire returns a new {@link Lease}.
 *
 * <p><b>Guarantees.</b> Waiting is fair where the provider says {@link Capability#FAIR_QUEUE}: a
 * request is never granted ahead of an earlier compatible-or-not waiter on the same name. A wait
 * ends with a lease, a {@link LockTimeoutException} at its deadline, or another typed failure; it
 * never hangs, and a failed or cancelled wait removes its own queue entry before it returns.
 *
 * <p><b>What it does not do.</b> Leases are not reentrant: two acquires of the same exclusive lock
 * by one caller wait for each other like two callers (use {@link #asLock()} for reentrancy per
 * thread). Leases are not tied to threads.
 *
 * <p>Example:
 *
 * <pre>{@code
 * DistributedLock lock = client.lock("orders/42");
 * try (Lease lease = lock.acquire(Duration.ofSeconds(5))) {
 *     orders.write(order, lease.fencingToken());
 * }
 * }</pre>
 */
public interface DistributedLock {
    /** The lock's name. */
    String name();

    /** {@link LockMode#EXCLUSIVE} or {@link LockMode#SHARED}. */
    LockMode mode();

    /**
     * Waits up to {@code wait} for the lock.
     *
     * @throws LockTimeoutException when the wait ends without a grant
     * @throws DeadlockException if waiting would close a cycle (where supported)
     * @throws InterruptedException if the thread is interrupted; the wait is cancelled first
     * @throws UnavailableException if the service cannot be reached
     */
    default Lease acquire(Duration wait) throws InterruptedException {
        return acquire(AcquireOptions.waitUpTo(wait));
    }

    /**
     * Like {@link #acquire(Duration)}, with a lease timeout if the options carry one. A grant that
     * reaches this client late is first confirmed with the service: one that comes a third of its
     * lease timeout or more after the call began (a reply held up by a partition), or that the
     * service reports from its memory when asked again for the outcome (the events that would
     * have told of its loss held up or missed). With a lease timeout a renewal confirms it, without
     * one a check that it is still the current holder: the lease returned is valid, never one the
     * service has already taken back without telling it.
     *
     * @throws LockLostException if the lock was granted but the grant timed out or was taken away
     *     (revoked) before it reached this client; the lock is not held, and calling again waits
     *     afresh
     */
    Lease acquire(AcquireOptions options) throws InterruptedException;

    /**
     * Takes the lock if it is free and no one waits for it, without waiting.
     *
     * @return the lease, or empty if the lock is busy
     * @throws UnavailableException if the service cannot be reached (never reported as "busy")
     */
    Optional<Lease> tryAcquire();

    /**
     * Asynchronous {@link #acquire(AcquireOptions)}. Cancelling the returned future cancels the
     * wait; if the grant raced with the cancellation, the lease is released.
     */
    CompletableFuture<Lease> acquireAsync(AcquireOptions options);

    /** Asynchronous {@link #acquire(Duration)}. */
    default CompletableFuture<Lease> acquireAsync(Duration wait) {
        return acquireAsync(AcquireOptions.waitUpTo(wait));
    }

    /**
     * A {@link Lock} view for code that expects one: reentrant per thread, {@link Lock#unlock()}
     * must be called by the locking thread, and conditions are not supported. Each call returns a
     * new view; reentrancy is counted per view, so keep one view per lock and share it.
     */
    default Lock asLock() {
        return new LeaseLock(this, null);
    }

    /**
     * An {@link #asLock()} view that tells {@code listener} of each change of its holds, on the
     * thread that makes it: for code that counts holds (metrics, or whether a view is in use)
     * without keeping a count of its own.
     */
    default Lock asLock(HoldListener listener) {
        if (listener == null) {
            throw new InvalidArgumentException("the hold listener must not be null");
        }
        return new LeaseLock(this, listener);
    }

    /**
     * What an {@link #asLock(HoldListener)} view tells of its holds, on the thread whose holds
     * change. A listener must not throw, nor lock or unlock the view.
     */
    interface HoldListener {
        /** The thread entered the view: took the lock, or entered it again. */
        void entered();

        /** The thread left the view once ({@code unlock}), whether or not its lease could be given back. */
        void left();

        /**
         * The thread's hold was found lost (its session expired, or it was revoked) and is
         * forgotten: it had entered {@code entries} times more than it left.
         */
        void lost(int entries);
    }
}
