package io.holdfast;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A named counting semaphore with a fixed number of permits, shared by every client of the same
 * service or store. Its leases behave like lock leases: fencing token, loss notification, release
 * from any thread, and the permits come back when the holder's session dies.
 *
 * <p>The number of permits is declared by each client and checked: while the semaphore has holders
 * or waiters, asking for it with a different number of permits fails with {@link
 * InvalidArgumentException}. Waiting is FIFO where the provider has {@link Capability#FAIR_QUEUE}:
 * a large request at the head is not overtaken by smaller ones behind it.
 */
public interface DistributedSemaphore {
    /** The most permits a semaphore may have, on every provider. */
    int MAX_PERMITS = 1_000_000;

    /** The semaphore's name. */
    String name();

    /** The number of permits it has in all. */
    int maxPermits();

    /**
     * Waits up to {@code wait} for {@code permits} permits.
     *
     * @throws InvalidArgumentException if {@code permits} is not between 1 and {@link #maxPermits()}
     * @throws LockTimeoutException when the wait ends without a grant
     */
    default Lease acquire(int permits, Duration wait) throws InterruptedException {
        return acquire(permits, AcquireOptions.waitUpTo(wait));
    }

    /** Like {@link #acquire(int, Duration)}, with the options' lease timeout. */
    Lease acquire(int permits, AcquireOptions options) throws InterruptedException;

    /** Takes the permits if they are free and no one waits, without waiting. */
    Optional<Lease> tryAcquire(int permits);

    /** Asynchronous {@link #acquire(int, AcquireOptions)}; cancelling the future cancels the wait. */
    CompletableFuture<Lease> acquireAsync(int permits, AcquireOptions options);
}
