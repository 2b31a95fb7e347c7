package io.holdfast.lease;

import io.holdfast.AcquireOptions;
import io.holdfast.Capability;
import io.holdfast.Lease;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The acquire operations of an engine, which the handles of {@link Handles} call after they have
 * checked everything the public API promises to check: the name, the permits, the options, and
 * every {@link Capability} the call needs. An acquirer may therefore trust its arguments; it only
 * waits, grants and builds the lease (a {@link ManagedLease}).
 *
 * <p>The three acquire methods are the three ways a caller waits, so that an engine can treat them apart
 * (the server's client makes a blocking acquire on behalf of the calling thread, an asynchronous
 * one on behalf of an owner of its own).
 *
 * <p><b>What an acquirer must guarantee</b>: the failures of {@link io.holdfast.DistributedLock}
 * and {@link io.holdfast.DistributedSemaphore} (timeouts, interrupts, cancellation leaving nothing
 * held). <b>Failure story</b>: the engine's client was closed while a caller waited; the acquirer
 * ends the wait with {@link io.holdfast.SessionExpiredException}.
 */
public interface Acquirer {
    /** The provider's name, for "the X provider does not support Y". */
    String provider();

    /** What the engine can honour; the handles refuse anything else. */
    Set<Capability> capabilities();

    /** Waits up to the options' wait time. */
    Lease acquire(LeaseRequest request, AcquireOptions options) throws InterruptedException;

    /** Tries once, without waiting; empty if busy. */
    Optional<Lease> tryAcquire(LeaseRequest request);

    /** Waits asynchronously; cancelling the future cancels the wait. */
    CompletableFuture<Lease> acquireAsync(LeaseRequest request, AcquireOptions options);
}
