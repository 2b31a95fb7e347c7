package io.holdfast.lease;

import io.holdfast.AcquireOptions;
import io.holdfast.Lease;
import io.holdfast.LockMode;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * An engine that takes every name of a multi-lock in one step, all or none: the Holdfast server,
 * whose lock table queues one wait with a place in each name's queue and grants it when it heads
 * them all. {@link Handles#multiLock} uses it when the {@link Acquirer} implements it too; other
 * engines' multi-locks take the names one by one in their sorted order.
 *
 * <p><b>What an implementation must guarantee</b>: the leases come in the order of the names, one
 * per name, all granted together; a failure, a busy try, a timeout, an interrupt or a cancellation
 * leaves none of them held. <b>Failure story</b>: the caller's thread is interrupted while the
 * multi-lock waits; the wait is withdrawn from every queue before the interrupt is rethrown, and a
 * grant that crossed the withdrawal is given back whole.
 */
public interface GroupAcquirer {
    /** Waits up to the options' wait time; the names are sorted and distinct. */
    List<Lease> acquireAll(List<String> sortedNames, LockMode mode, AcquireOptions options) throws InterruptedException;

    /** Tries once, without waiting; empty if any name is busy. */
    Optional<List<Lease>> tryAcquireAll(List<String> sortedNames, LockMode mode);

    /** Waits asynchronously; cancelling the future withdraws the wait. */
    CompletableFuture<List<Lease>> acquireAllAsync(List<String> sortedNames, LockMode mode, AcquireOptions options);
}
