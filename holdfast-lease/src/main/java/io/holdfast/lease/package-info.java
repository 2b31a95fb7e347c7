/**
 * The lease and handle machinery that both Holdfast engines share: {@link
 * io.holdfast.lease.ManagedLease} (state machine, loss listeners, renewal watchdog) over a {@link
 * io.holdfast.lease.LeaseHost}, and {@link io.holdfast.lease.Handles} (locks, read-write locks,
 * semaphores) over an {@link io.holdfast.lease.Acquirer}. An engine supplies acquire, renew and
 * release; the rules are kept here, once. {@link io.holdfast.lease.Retries} is the one way both
 * engines retry a request as the client's {@link io.holdfast.RetryPolicy} says.
 */
package io.holdfast.lease;
