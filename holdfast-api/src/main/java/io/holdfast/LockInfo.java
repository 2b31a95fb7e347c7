package io.holdfast;

import java.util.List;

/**
 * A snapshot of one lock or semaphore: who holds it and who waits, in queue order.
 *
 * @param name the name
 * @param semaphore true for a semaphore, false for a lock
 * @param maxPermits the semaphore's permits, 1 for a lock
 * @param holders the current holders
 * @param waiters the waiters, head first
 */
public record LockInfo(
        String name, boolean semaphore, int maxPermits, List<HolderInfo> holders, List<WaiterInfo> waiters) {
    public LockInfo {
        holders = List.copyOf(holders);
        waiters = List.copyOf(waiters);
    }
}
