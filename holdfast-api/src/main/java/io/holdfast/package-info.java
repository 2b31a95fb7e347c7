/**
 * What applications call: open a client, take locks, hold leases. Most code needs five types:
 *
 * <ul>
 *   <li>{@link io.holdfast.LockClient}: opened by URI ({@code holdfast://}, {@code jdbc:}, {@code
 *       redis://}, {@code zookeeper://}, {@code etcd://}, {@code file:}, {@code mem:}); one per
 *       process, thread-safe; it hands out every handle below.
 *   <li>{@link io.holdfast.DistributedLock}: a named lock; each acquire returns a lease.
 *   <li>{@link io.holdfast.Lease}: a grant held until released or lost, with its fencing token;
 *       any thread may release it.
 *   <li>{@link io.holdfast.AcquireOptions} and {@link io.holdfast.ClientOptions}: how long to wait
 *       and how long a lease lasts; the session's TTL, timeouts, retries and clock.
 *   <li>{@link io.holdfast.HoldfastException}: the failures, each with an {@link
 *       io.holdfast.ErrorCode}; {@link io.holdfast.LockLostException} when a lease ends without its
 *       holder releasing it.
 * </ul>
 *
 * <pre>{@code
 * try (LockClient client = LockClient.open("holdfast://10.0.0.1:4653,10.0.0.2:4653");
 *         Lease lease = client.lock("orders/42").acquire(Duration.ofSeconds(5))) {
 *     orders.write(order, lease.fencingToken());
 * }
 * }</pre>
 *
 * <p>The rest builds on them: read-write locks, semaphores and multi-locks; versioned registers;
 * elections, latches and barriers ({@link io.holdfast.Election}, {@link
 * io.holdfast.DistributedLatch}, {@link io.holdfast.DistributedBarrier}); watches; and operator
 * calls behind {@link io.holdfast.LockClient#admin()}. Providers plug in through {@code
 * io.holdfast.spi}; applications never need it.
 */
package io.holdfast;
