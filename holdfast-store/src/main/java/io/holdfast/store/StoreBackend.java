package io.holdfast.store;

import io.holdfast.Admin;
import io.holdfast.Capability;
import io.holdfast.RetryPolicy;
import io.holdfast.internal.Backoffs;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The primitives of one store (a database, Redis, ZooKeeper, etcd, a directory), which {@link
 * StoreLockClient} turns into the whole Holdfast API. The client does everything that is the same
 * for every store: validating arguments, capability checks, lease objects with their loss
 * callbacks, the renewal watchdog, the {@code Lock} and async views, retries of an unreachable
 * store, close and crash. A backend only talks to its store.
 *
 * <p><b>Contract.</b>
 *
 * <ul>
 *   <li>Every method may be called from many threads at once.
 *   <li>Every call that talks to the store ends within the client's {@link
 *       io.holdfast.ClientOptions#requestTimeout() request timeout}. A store that cannot be
 *       reached gives {@link io.holdfast.UnavailableException}, never a hang and never a raw
 *       driver exception.
 *   <li>{@link #tryAcquire} is idempotent per {@link LockRequest#owner() owner}: if the store
 *       already holds a grant for that owner (an earlier attempt succeeded but its answer was
 *       lost), it returns that grant with its original token. The client retries with the same
 *       request after {@code UnavailableException}, so this is what keeps a retry from taking a
 *       lock twice or leaking one.
 *   <li>Fencing tokens grow: every grant of a name gets a larger token than every earlier grant of
 *       that name, across clients and processes.
 *   <li>A grant the store keeps with an expiry lapses by the store's own clock (database {@code
 *       now()}, Redis TTLs), never the client's.
 *   <li>After {@link #abandon()}, the backend sends nothing more to the store, and {@link #close()}
 *       frees only local resources: whatever it held must expire in the store as if the process
 *       had died.
 * </ul>
 *
 * <p><b>A failure story.</b> A client holds {@code orders/42}, the network drops for longer than
 * the lease's expiry, and the watchdog's renewals fail with {@code UnavailableException}. Once no
 * renewal has been acknowledged for the whole expiry the client marks the lease lost and calls the
 * holder's callbacks; meanwhile the store lets the grant lapse and gives the lock, with a larger
 * token, to someone else. A late write from the old holder is refused by any store that checks
 * tokens.
 */
public interface StoreBackend {
    /** The provider's short name for messages, such as {@code redis}. */
    String provider();

    /** What this store can do honestly; the rest is refused with {@link io.holdfast.UnsupportedFeatureException}. */
    Set<Capability> capabilities();

    /** An identifier for this client's session with the store, unique among its clients. */
    String sessionId();

    /** Called once before anything else, with where to report losses found out by the backend. */
    default void start(LossSink sink) {}

    /**
     * Until when, on the client's ticker ({@code ClientOptions.ticker()}), the store cannot have
     * ended this client's session, and with it the grants on it, whatever the grants' own renewals
     * say ({@link io.holdfast.lease.LeaseHost#validUntilNanos()}): for ZooKeeper, the last answered
     * request's sending plus the session timeout; for etcd, the last acknowledged keep-alive's
     * sending plus the lease's TTL; each less a margin. Every lease of this client reads invalid
     * from then on. The default, {@link Long#MAX_VALUE}, is for stores whose grants live only by
     * their own renewals. Called often, under a lease's lock: cheap, and no lock of its own.
     */
    default long validUntilNanos() {
        return Long.MAX_VALUE;
    }

    /**
     * Takes the lock now if it is free for this request, without waiting.
     *
     * @return the grant, or empty if the lock is held in a conflicting way
     * @throws io.holdfast.InvalidArgumentException if the request conflicts with the store's state
     *     in a way waiting cannot fix (a semaphore of another size)
     * @throws io.holdfast.UnavailableException if the store cannot be reached
     */
    Optional<Grant> tryAcquire(LockRequest request);

    /**
     * Waits until the request is granted or the deadline passes. The default polls {@link
     * #tryAcquire} with a growing pause ({@link Backoffs#lockPoll} of {@link #maxPollInterval()}),
     * sleeping in {@link #awaitChange}; a backend whose store can queue waiters or notify them
     * overrides one or the other.
     *
     * <p>An implementation that queues the request in the store must take it off the queue before
     * it returns empty or throws, including on interrupt, with one exception: when it throws {@link
     * io.holdfast.UnavailableException} it may leave the request queued, if the store drops a queued
     * request that nobody polls for the request's expiry. The acquirer tries again with the same
     * request (the same owner), which then keeps its place in the queue across a failover of the
     * store. It must also end the wait with {@link
     * InterruptedException} soon after {@link Deadline#cancelled()} turns true, since some drivers
     * swallow interrupts.
     *
     * @return the grant, or empty at the deadline
     * @throws InterruptedException if the thread is interrupted; nothing is held then
     */
    default Optional<Grant> acquire(LockRequest request, Deadline deadline) throws InterruptedException {
        RetryPolicy pauses = Backoffs.lockPoll(maxPollInterval());
        int polls = 0;
        while (true) {
            if (deadline.cancelled()) {
                throw new InterruptedException("the wait for " + request.describe() + " was called off");
            }
            Optional<Grant> grant = tryAcquire(request);
            if (grant.isPresent()) {
                return grant;
            }
            long remaining = deadline.remainingNanos();
            if (remaining <= 0) {
                return Optional.empty();
            }
            awaitChange(
                    request.name(),
                    Math.min(pauses.delayBefore(++polls, () -> 0.0).toNanos(), remaining));
        }
    }

    /** The longest pause of the default {@link #acquire} between two attempts. */
    default Duration maxPollInterval() {
        return Duration.ofMillis(100);
    }

    /**
     * Blocks up to {@code maxNanos}, or less if the lock {@code name} may have been released
     * meanwhile (a notification from the store). Spurious returns are fine. The default sleeps.
     */
    default void awaitChange(String name, long maxNanos) throws InterruptedException {
        TimeUnit.NANOSECONDS.sleep(maxNanos);
    }

    /**
     * Blocks up to {@code maxNanos}, or less if what {@code target} watches may have changed (a
     * notification from the store): what wakes a watch's next read ({@link
     * io.holdfast.internal.PollingFeed}). Spurious returns are fine. The default sleeps: watches poll.
     */
    default void awaitWatched(io.holdfast.WatchTarget target, long maxNanos) throws InterruptedException {
        TimeUnit.NANOSECONDS.sleep(maxNanos);
    }

    /**
     * How often the client's watchdog must call {@link #renew} for this grant, or {@code null} if
     * the store keeps it alive by other means (an ephemeral node of a session the backend keeps
     * alive itself). The default is a third of the request's expiry.
     */
    default Duration renewEvery(Grant grant) {
        return grant.request().expiry().dividedBy(3);
    }

    /**
     * Pushes the grant's expiry in the store to a full {@link LockRequest#expiry()} from now.
     *
     * @return false if the store no longer has this grant (it expired or was revoked)
     * @throws io.holdfast.UnavailableException if the store cannot be reached
     */
    boolean renew(Grant grant);

    /**
     * Gives the grant back, and wakes whoever waits for it if the store can.
     *
     * @return false if the store no longer had this grant
     * @throws io.holdfast.UnavailableException if the store cannot be reached
     */
    boolean release(Grant grant);

    /**
     * The operator calls the store supports, as declared by {@link Capability#INSPECT}, {@link
     * Capability#REVOKE} and {@link Capability#CHECK_FENCE}. The client checks the capability before
     * calling a method of it; the default has none.
     */
    default Admin admin() {
        return null;
    }

    /**
     * The store's registers, if the backend declares {@link Capability#REGISTERS}; the client checks
     * the capability (and {@link Capability#FENCED_REGISTERS} for fenced writes) before calling
     * them. Called once, when the client is built; the default has none.
     */
    default StoreRegisters registers() {
        return null;
    }

    /**
     * The store's keys ({@link io.holdfast.Keys}), if the backend declares {@link Capability#KEYS}
     * (and {@link Capability#SESSION_KEYS}, {@link Capability#KEY_TTL}, {@link
     * Capability#TRANSACTIONS} for what it keeps of those); the client checks every argument and
     * capability first ({@code Handles.keys}), so these may trust theirs. A key attached to the
     * session is this backend's session's ({@link #sessionId()}). Called once, when the client is
     * built; the default has none.
     */
    default io.holdfast.Keys keys() {
        return null;
    }

    /** Stops all traffic to the store at once, releasing nothing: a simulated process death. */
    void abandon();

    /** Frees the backend's connections and threads. Releases nothing itself: the client does that first. */
    void close();
}
