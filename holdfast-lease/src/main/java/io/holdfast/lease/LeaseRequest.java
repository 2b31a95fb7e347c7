package io.holdfast.lease;

import io.holdfast.LockMode;

/**
 * What a handle asks its {@link Acquirer} for, already validated by the handle ({@link Handles}).
 *
 * <p><b>What it does not do</b>: validate itself; only {@link Handles} builds it, after its checks.
 * <b>Failure story</b>: an engine that builds one by hand with 0 permits gets no error here; its
 * backend's own request type (the store's {@code LockRequest}) refuses it.
 *
 * @param name the lock or semaphore name, checked by {@link io.holdfast.Names#check}
 * @param mode {@code EXCLUSIVE} or {@code SHARED} for locks, {@code PERMITS} for semaphores
 * @param permits 1 for locks; 1 to {@code maxPermits} for semaphores
 * @param maxPermits 1 for locks; the semaphore's size for semaphores
 */
public record LeaseRequest(String name, LockMode mode, int permits, int maxPermits) {}
