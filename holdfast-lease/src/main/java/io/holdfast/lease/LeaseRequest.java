package io.holdfast.lease;

import io.holdfast.LockMode;

/**
 * What a handle asks its {@link Acquirer} for, already validated by the handle.
 *
 * @param name the lock or semaphore name, checked by {@link io.holdfast.Names#check}
 * @param mode {@code EXCLUSIVE} or {@code SHARED} for locks, {@code PERMITS} for semaphores
 * @param permits 1 for locks; 1 to {@code maxPermits} for semaphores
 * @param maxPermits 1 for locks; the semaphore's size for semaphores
 */
public record LeaseRequest(String name, LockMode mode, int permits, int maxPermits) {}
