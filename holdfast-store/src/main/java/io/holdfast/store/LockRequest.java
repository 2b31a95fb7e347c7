package io.holdfast.store;

import io.holdfast.InvalidArgumentException;
import io.holdfast.LockMode;
import java.time.Duration;

/**
 * One attempt to take a lock, a shared lock or semaphore permits, as a {@link StoreBackend} sees
 * it. {@link StoreLockClient} builds it after validating everything, so a backend may trust it.
 *
 * @param name the lock or semaphore name, already checked by {@link io.holdfast.Names#check}
 * @param mode {@code EXCLUSIVE} or {@code SHARED} for locks, {@code PERMITS} for semaphores
 * @param permits 1 for locks; for semaphores 1 to {@code maxPermits}
 * @param maxPermits 1 for locks; the semaphore's size for semaphores
 * @param owner unique to this attempt across every client of the store: what the store records as
 *     the holder. A retried attempt keeps its owner, which is what makes retries safe (see {@link
 *     StoreBackend#tryAcquire})
 * @param expiry how long the store keeps the grant without a renewal: the caller's lease timeout
 *     if it asked for one, otherwise the client's session TTL. Stores with sessions of their own
 *     (ZooKeeper, etcd) may tie a grant to that session instead unless {@code leaseTimeout} is set
 * @param leaseTimeout whether the caller asked for an explicit lease timeout
 */
public record LockRequest(
        String name, LockMode mode, int permits, int maxPermits, String owner, Duration expiry, boolean leaseTimeout) {
    public LockRequest {
        if (name == null || mode == null || owner == null || expiry == null) {
            throw new InvalidArgumentException("a lock request needs a name, mode, owner and expiry");
        }
        if (permits < 1 || permits > maxPermits) {
            throw new InvalidArgumentException("permits must be between 1 and " + maxPermits + ", not " + permits);
        }
        if (mode != LockMode.PERMITS && maxPermits != 1) {
            throw new InvalidArgumentException("a lock has exactly one permit, not " + maxPermits);
        }
        if (expiry.isNegative() || expiry.isZero()) {
            throw new InvalidArgumentException("expiry must be positive, not " + expiry);
        }
    }

    /** "lock orders/42", "shared lock catalog" or "2 permits of gpu-slots", for messages. */
    public String describe() {
        return switch (mode) {
            case EXCLUSIVE -> "lock " + name;
            case SHARED -> "shared lock " + name;
            case PERMITS -> permits + " of " + maxPermits + " permits of " + name;
        };
    }
}
