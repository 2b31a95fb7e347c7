package io.holdfast;

import java.util.List;
import java.util.Optional;

/**
 * Operator calls: look at the state and take locks back. Kept apart from the everyday API so that
 * it can be guarded separately.
 */
public interface Admin {
    /** The largest {@code limit} of {@link #locks}. */
    int MAX_LIMIT = 10_000;

    /**
     * The locks and semaphores that are held or waited for, whose name starts with {@code prefix},
     * sorted by name, at most {@code limit} of them.
     *
     * @throws InvalidArgumentException if {@code limit} is not between 1 and {@link #MAX_LIMIT}
     */
    List<LockInfo> locks(String prefix, int limit);

    /** One lock or semaphore, or empty if no one holds or waits for it. */
    Optional<LockInfo> describe(String name);

    /**
     * Takes a lock or semaphore away from all its holders; they are told through their lost-lock
     * events, and the next waiters are granted with higher tokens.
     *
     * @return the number of leases revoked
     * @throws UnsupportedFeatureException if the provider cannot revoke
     */
    int revoke(String name);

    /**
     * Whether {@code fencingToken} is the token of a current holder of {@code name} (Chubby's
     * CheckSequencer): a resource that cannot keep the highest token itself can ask.
     */
    boolean isCurrentHolder(String name, long fencingToken);
}
