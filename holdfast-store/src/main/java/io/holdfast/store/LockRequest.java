package io.holdfast.store;

import io.holdfast.InvalidArgumentException;
import io.holdfast.LockMode;
import io.holdfast.lease.LeaseRequest;
import java.time.Duration;

/**
 * One attempt to take a lock, a shared lock or semaphore permits, as a {@link StoreBackend} sees
 * it: the handle's {@link LeaseRequest}, held as it came, with what the store needs besides.
 * {@link StoreLockClient} builds it after validating everything, so a backend may trust it; this
 * constructor checks it once more, so a request built by hand (a backend's test) with 0 permits or
 * no owner fails here with {@link InvalidArgumentException}, not in the store.
 *
 * @param lease what the handle asked for: the name (already checked by {@link
 *     io.holdfast.Names#check}), the mode ({@code EXCLUSIVE} or {@code SHARED} for locks, {@code
 *     PERMITS} for semaphores), the permits (1 for locks; 1 to {@code maxPermits} for semaphores)
 *     and the semaphore's size (1 for locks)
 * @param owner unique to this attempt across every client of the store: what the store records as
 *     the holder. A retried attempt keeps its owner, which is what makes retries safe (see {@link
 *     StoreBackend#tryAcquire})
 * @param expiry how long the store keeps the grant without a renewal: the caller's lease timeout
 *     if it asked for one, otherwise the client's session TTL. Stores with sessions of their own
 *     (ZooKeeper, etcd) may tie a grant to that session instead unless {@code leaseTimeout} is set
 * @param leaseTimeout whether the caller asked for an explicit lease timeout
 */
public record LockRequest(LeaseRequest lease, String owner, Duration expiry, boolean leaseTimeout) {
    public LockRequest {
        if (lease == null || lease.name() == null || lease.mode() == null || owner == null || expiry == null) {
            throw new InvalidArgumentException("a lock request needs a name, mode, owner and expiry");
        }
        if (lease.permits() < 1 || lease.permits() > lease.maxPermits()) {
            throw new InvalidArgumentException(
                    "permits must be between 1 and " + lease.maxPermits() + ", not " + lease.permits());
        }
        if (lease.mode() != LockMode.PERMITS && lease.maxPermits() != 1) {
            throw new InvalidArgumentException("a lock has exactly one permit, not " + lease.maxPermits());
        }
        if (expiry.isNegative() || expiry.isZero()) {
            throw new InvalidArgumentException("expiry must be positive, not " + expiry);
        }
    }

    /** The lock or semaphore name. */
    public String name() {
        return lease.name();
    }

    /** {@code EXCLUSIVE} or {@code SHARED} for locks, {@code PERMITS} for semaphores. */
    public LockMode mode() {
        return lease.mode();
    }

    /** 1 for locks; for semaphores 1 to {@link #maxPermits()}. */
    public int permits() {
        return lease.permits();
    }

    /** 1 for locks; the semaphore's size for semaphores. */
    public int maxPermits() {
        return lease.maxPermits();
    }

    /** "lock orders/42", "shared lock catalog" or "2 permits of gpu-slots", for messages. */
    public String describe() {
        return switch (mode()) {
            case EXCLUSIVE -> "lock " + name();
            case SHARED -> "shared lock " + name();
            case PERMITS -> permits() + " of " + maxPermits() + " permits of " + name();
        };
    }
}
