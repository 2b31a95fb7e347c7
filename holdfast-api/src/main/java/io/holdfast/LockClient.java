package io.holdfast;

import io.holdfast.internal.Redaction;
import io.holdfast.spi.LockProvider;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;

/**
 * The entry point: a connection to one lock service or store, with one session that is kept alive
 * in the background. Opened by URI, the way JDBC picks a driver: {@code holdfast://host:4653,…},
 * {@code jdbc:postgresql://…}, {@code redis://…}, {@code zookeeper://…}, {@code etcd://…}, {@code
 * file:///…}, {@code mem:} (in-process, for tests and demos).
 *
 * <p><b>Guarantees.</b> All handles it returns share its session: if the session is lost, every
 * lease they hold is lost (and told so) and every wait fails with {@link SessionExpiredException}.
 * A lost lease stays lost: nothing takes it again on the application's behalf. The client itself
 * outlives the session (ADR 0004, unless opened with {@link ClientOptions#renewSessions()
 * renewSessions(false)}): it opens a new session, with a new id, and tells its {@link
 * SessionListener}s; calls that need a session wait for it within their own timeouts, reads and
 * watches go on. It is thread-safe; share one per process. {@link #close()} releases every lease
 * and ends the session, so other clients do not wait for the TTL.
 *
 * <p><b>Not guaranteed.</b> The features in {@link #capabilities()} only: a provider that lacks one
 * throws {@link UnsupportedFeatureException} when it is used.
 *
 * <p><b>Failure story.</b> The process is killed with SIGKILL while holding locks. Nothing is
 * released by the client; the service stops hearing heartbeats and expires the session after its
 * TTL ({@link ClientOptions#sessionTtl()}), then grants the locks to the next waiters with higher
 * fencing tokens.
 *
 * <p><b>For implementers.</b> {@link #election}, {@link #latch}, {@link #barrier}, {@link
 * #awaitFree}, {@link #group}, {@link #doubleBarrier} and a polling {@link #watch(WatchTarget,
 * WatchListener)} are recipes over the other methods: answer them from one {@link
 * io.holdfast.recipes.Recipes} made with the client's own ticker, scheduler and executor, so that
 * their timeouts run on the client's clock and their work on its threads; {@link
 * io.holdfast.spi.AbstractLockClient} does it.
 */
public interface LockClient extends AutoCloseable {

    /** Opens a client with {@link ClientOptions#defaults()}. */
    static LockClient open(String uri) {
        return open(uri, ClientOptions.defaults());
    }

    /**
     * Opens a client through the first provider on the class path that accepts the URI.
     *
     * @throws InvalidArgumentException if no provider accepts it, or the URI is malformed
     * @throws UnavailableException if the service cannot be reached
     */
    static LockClient open(String uri, ClientOptions options) {
        if (uri == null || uri.isBlank()) {
            throw new InvalidArgumentException("the URI must not be empty");
        }
        if (options == null) {
            throw new InvalidArgumentException("options must not be null");
        }
        List<String> known = new ArrayList<>();
        for (LockProvider provider : ServiceLoader.load(LockProvider.class, LockClient.class.getClassLoader())) {
            if (provider.accepts(uri)) {
                return provider.open(uri, options);
            }
            known.add(provider.name());
        }
        throw new InvalidArgumentException("no provider on the class path accepts '" + Redaction.uri(uri)
                + "' (providers found: " + (known.isEmpty() ? "none" : String.join(", ", known)) + ")");
    }

    /** The exclusive lock with this name. @throws InvalidArgumentException for a bad name */
    DistributedLock lock(String name);

    /** The read-write lock with this name. @throws InvalidArgumentException for a bad name */
    DistributedReadWriteLock readWriteLock(String name);

    /**
     * The semaphore with this name and number of permits.
     *
     * @throws InvalidArgumentException for a bad name or a permit count outside 1..1,000,000
     */
    DistributedSemaphore semaphore(String name, int permits);

    /**
     * A handle on several locks taken all or none ({@link DistributedMultiLock}). Creating it does
     * not touch the service.
     *
     * @param names 1 to {@value DistributedMultiLock#MAX_NAMES} distinct lock names, in any order
     * @param mode {@link LockMode#EXCLUSIVE}, or {@link LockMode#SHARED} where {@link
     *     Capability#READ_WRITE} is declared
     * @throws InvalidArgumentException if a name is invalid or repeated, or there are none or too many
     * @throws UnsupportedFeatureException if the provider does not offer multi-locks or the mode
     */
    default DistributedMultiLock multiLock(Collection<String> names, LockMode mode) {
        throw new UnsupportedFeatureException("this provider does not support multi-locks");
    }

    /** {@link #multiLock(Collection, LockMode)} in {@link LockMode#EXCLUSIVE} mode. */
    default DistributedMultiLock multiLock(Collection<String> names) {
        return multiLock(names, LockMode.EXCLUSIVE);
    }

    /** The versioned register with this key. @throws InvalidArgumentException for a bad key */
    VersionedRegister register(String key);

    /**
     * The keys of this provider ({@link Keys}), written under this client's session.
     *
     * @throws UnsupportedFeatureException without {@link Capability#KEYS}
     */
    default Keys keys() {
        throw new UnsupportedFeatureException("this provider does not support keys");
    }

    /**
     * The leader election of this name ({@link Election}): campaign, see who leads, step down.
     * Creating it does not touch the service; it needs {@link Capability#FENCED_REGISTERS} and
     * {@link Capability#INSPECT}.
     *
     * @throws InvalidArgumentException for a bad name
     */
    Election election(String name);

    /**
     * The count-down latch of this name ({@link DistributedLatch}): set a count, count it down from
     * any client, wait for zero. Built from the register of the name and a watch of it; creating it
     * does not touch the service, using it needs {@link Capability#REGISTERS}.
     *
     * @throws InvalidArgumentException for a bad name
     */
    DistributedLatch latch(String name);

    /**
     * The cyclic barrier of this name for {@code parties} parties ({@link DistributedBarrier}):
     * each waits until all have arrived, then all pass. Built from the register of the name and a
     * watch of it; creating it does not touch the service, using it needs {@link
     * Capability#REGISTERS}.
     *
     * @throws InvalidArgumentException for a bad name, or parties outside 1..{@value
     *     DistributedBarrier#MAX_PARTIES}
     */
    DistributedBarrier barrier(String name, int parties);

    /**
     * The group membership of this name ({@link GroupMembership}): members join as keys attached
     * to their sessions, anyone lists or watches the live ones. Creating it does not touch the
     * service; it needs {@link Capability#KEYS} and, to join, {@link Capability#SESSION_KEYS}.
     *
     * @throws InvalidArgumentException for a bad name
     * @throws UnsupportedFeatureException without {@link Capability#KEYS}
     */
    GroupMembership group(String group);

    /**
     * The double barrier of this name for {@code parties} sessions ({@link DoubleBarrier}): they
     * enter together and leave together. Creating it does not touch the service; it needs {@link
     * Capability#KEYS}, {@link Capability#SESSION_KEYS} and {@link Capability#TRANSACTIONS}.
     *
     * @throws InvalidArgumentException for a bad name, or parties outside 1..{@value
     *     DistributedBarrier#MAX_PARTIES}
     * @throws UnsupportedFeatureException without {@link Capability#KEYS}
     */
    DoubleBarrier doubleBarrier(String name, int parties);

    /**
     * Watches locks or a register ({@link WatchTarget}): the listener is given their complete state
     * ({@link WatchEvent.Type#STATE}), then every change (acquired, released and why, queued, wait
     * ended, register written), in order, on a thread of the watch's own, until the watch or this
     * client is closed.
     *
     * <p>Where {@link Capability#WATCH} is declared, the service keeps a record of its changes and
     * the watch reports each one, in the service's order, resuming from its last position after a
     * reconnection or a leader change; if the service no longer has the changes since that position
     * it says so with a fresh {@code STATE}. Elsewhere the watch polls the state ({@link
     * Capability#INSPECT}; {@link Capability#REGISTERS} for a register) every 100 ms and reports the
     * differences: a lock taken and given back between two reads is not seen, and why a holder left
     * is {@link WatchEvent.Cause#UNKNOWN}. Polling runs on the client's clock and threads ({@link
     * io.holdfast.recipes.Recipes#watch}).
     *
     * @throws UnsupportedFeatureException if the provider can neither record nor inspect its state
     * @throws InvalidArgumentException if the target or the listener is null
     */
    Watch watch(WatchTarget target, WatchListener listener);

    /** {@link #watch(WatchTarget, WatchListener)} of one lock. */
    default Watch watch(String name, WatchListener listener) {
        return watch(WatchTarget.lock(name), listener);
    }

    /**
     * Waits until nobody holds the lock {@code name} (it may be taken again at once: this is no
     * grant), or the timeout passes. Uses a watch: see {@link #watch(WatchTarget, WatchListener)}.
     *
     * @return true if the lock was free, false if the timeout passed first
     * @throws InterruptedException if interrupted while waiting
     */
    boolean awaitFree(String name, java.time.Duration timeout) throws InterruptedException;

    /** Operator calls. */
    Admin admin();

    /** What this provider can honour. */
    Set<Capability> capabilities();

    /**
     * This client's session id, as operators see it: the current one, which changes each time the
     * client opens a new session after a loss (the lost one's while the next is being opened).
     */
    String sessionId();

    /**
     * False once the client was closed, or its session was lost and it does not open another
     * ({@link ClientOptions#renewSessions() renewSessions(false)}, or a provider that cannot
     * renew). A client that renews is open between two sessions too.
     */
    boolean isOpen();

    /**
     * Tells {@code listener} when this client's session is lost and when the next one is open
     * ({@link SessionListener}), on the client's callback thread, in that order, until it is
     * removed or the client closed.
     *
     * @throws InvalidArgumentException if the listener is null
     * @throws UnsupportedFeatureException if this provider cannot tell its session's changes
     */
    default void addSessionListener(SessionListener listener) {
        throw new UnsupportedFeatureException("this provider does not tell its session's changes");
    }

    /** Stops telling {@code listener}; nothing if it was not added. */
    default void removeSessionListener(SessionListener listener) {}

    /** Releases every lease, cancels every wait and ends the session. Idempotent. */
    @Override
    void close();
}
