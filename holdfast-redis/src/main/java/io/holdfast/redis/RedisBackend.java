package io.holdfast.redis;

import io.holdfast.Admin;
import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.InvalidArgumentException;
import io.holdfast.RetryPolicy;
import io.holdfast.UnavailableException;
import io.holdfast.internal.Backoffs;
import io.holdfast.store.Deadline;
import io.holdfast.store.Grant;
import io.holdfast.store.LockRequest;
import io.holdfast.store.LossSink;
import io.holdfast.store.StoreBackend;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Redis primitives behind {@link io.holdfast.store.StoreLockClient}.
 *
 * <p><b>For maintainers.</b> A name has three keys: {@code <prefix>lock:<name>}, a hash of its
 * holders (field: owner id, value: a small JSON record with mode, permits, semaphore size, token,
 * expiry and grant time in Redis milliseconds, session and client name); {@code <prefix>queue:<name>},
 * a sorted set of waiting owners in arrival order; {@code <prefix>wait:<name>}, their records. Every
 * change is one Lua script ({@link LockScripts}), so Redis runs it atomically. A script that frees anything (release, cancel,
 * revoke, or a poll that finds an expired holder) grants the head of the queue in the same step,
 * taking tokens from the one counter {@code <prefix>token} that every name shares (on a Redis
 * Cluster, the name's own counter in the name's slot: {@link RedisKeyLayout}; either never falls below
 * Redis's clock, 1024 per millisecond since 1970 counted to the microsecond, so a restart or a
 * failover that lost its last increments, or all of it, does not give a token twice), and publishes
 * {@code G<token>:<owner>} on {@code <prefix>events}; the client of that owner wakes just that
 * waiter ({@link RedisGrants#told}, {@link Wakeups}), which returns without another round trip. Waiters also poll (at most
 * every second, or a quarter of their expiry), which keeps their queue entry alive, lets a grant
 * that expired by itself pass to the next waiter, and covers lost messages. Expiry is always
 * Redis's {@code TIME}, never this client's clock.
 *
 * <p>Calls go through {@link RedisCalls}: bounded by the request timeout, failures as {@link
 * UnavailableException}.
 */
final class RedisBackend implements StoreBackend {
    private static final Logger log = LoggerFactory.getLogger(RedisBackend.class);

    private final RedisSettings settings;
    private final ClientOptions options;
    private final String session = UUID.randomUUID().toString();
    private final String clientName;
    private final RedisKeyLayout keys;
    private final String channel;
    private final Wakeups wakeups = new Wakeups();
    private final RedisGrants grants = new RedisGrants();
    private final ConcurrentHashMap<String, LockRequest> waits = new ConcurrentHashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Polls hold it to read; {@link #close()} takes it to write, so no poll queues a wait after close's cancels. */
    private final ReentrantReadWriteLock pollGate = new ReentrantReadWriteLock();

    private final RedisCalls calls;
    private final LockScripts scripts;

    private boolean closing;
    private volatile boolean abandoned;
    private volatile LossSink sink;

    private RedisLink link;
    private volatile RedisWatches watches;
    private final RedisKeyStore keyStore;

    private RedisBackend(RedisSettings settings, ClientOptions options) {
        this.settings = settings;
        this.options = options;
        this.clientName = options.clientName();
        this.keys = new RedisKeyLayout(settings.prefix(), settings.cluster());
        this.channel = settings.prefix() + "events";
        this.calls = new RedisCalls(settings.display(), options);
        this.scripts = new LockScripts(calls, keys, settings.prefix(), channel, session, clientName);
        this.keyStore = new RedisKeyStore(this, options);
    }

    /**
     * Connects to Redis and subscribes to release messages (see {@link RedisLink}).
     *
     * @throws UnavailableException if Redis cannot be reached (or refuses the credentials) within
     *     the client's connect timeout
     */
    static RedisBackend connect(RedisSettings settings, ClientOptions options) {
        RedisBackend backend = new RedisBackend(settings, options);
        backend.link = RedisLink.open(
                settings,
                options,
                backend.calls,
                backend.channel,
                backend::wakeAll, // messages may have been missed while it was down
                backend::onMessage,
                backend::onWatchMessage);
        backend.watches = new RedisWatches(backend.link, settings.prefix(), options.ticker());
        if (!settings.cluster()) {
            backend.keyStore.start(); // the keys' scripts touch undeclared keys: one Redis only
        }
        return backend;
    }

    // ---- StoreBackend

    @Override
    public String provider() {
        return "redis";
    }

    @Override
    public Set<Capability> capabilities() {
        return settings.cluster() ? RedisCapabilities.CLUSTER : RedisCapabilities.ONE_REDIS;
    }

    @Override
    public String sessionId() {
        return session;
    }

    @Override
    public void start(LossSink sink) {
        this.sink = sink;
    }

    @Override
    public Optional<Grant> tryAcquire(LockRequest request) {
        return poll(request, 0);
    }

    /**
     * Queues the request (behind every earlier waiter: no barging) and sleeps until the
     * announcement of its grant or a pause ({@link Backoffs#announcedLockPoll}), polling in
     * between. A wait that ends without a grant (deadline, interrupt, failure) takes itself off the
     * queue and gives back a grant that raced it before it returns, except when it ends with {@link
     * UnavailableException}: then it keeps its place, since the acquirer tries again with the same
     * owner, whose next poll finds it queued where it was. Across the failover of a Redis Cluster
     * primary, the cancel of a poll that failed on the dead primary reached the promoted replica and
     * sent the waiter to the back of the queue (RedisClusterFailover saw no waiter there). If no
     * try comes, the queue entry lapses once it has not been polled for the request's expiry, as a
     * crashed client's does.
     */
    @Override
    public Optional<Grant> acquire(LockRequest request, Deadline deadline) throws InterruptedException {
        Wakeups.Signal signal = wakeups.register(request.owner());
        waits.put(request.owner(), request);
        boolean granted = false;
        boolean unreachable = false;
        try {
            RetryPolicy pauses = Backoffs.announcedLockPoll(request.expiry());
            int unwoken = 0; // polls since the last announcement
            while (true) {
                if (deadline.cancelled()) {
                    throw new InterruptedException("the wait for " + request.describe() + " was called off");
                }
                long seen = signal.version();
                // With replicas to wait for, a grant announced by another client's step is confirmed
                // by a poll of this connection, so that its WAIT covers it.
                Optional<Grant> grant = signal.token() > 0 && settings.replicas() == 0
                        ? Optional.of(grants.adopt(request, signal.token()))
                        : poll(request, Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline.remainingNanos())));
                if (grant.isPresent()) {
                    granted = true;
                    return grant;
                }
                if (Thread.interrupted()) {
                    throw new InterruptedException("interrupted while waiting for " + request.describe());
                }
                long remaining = deadline.remainingNanos();
                if (remaining <= 0) {
                    return Optional.empty();
                }
                boolean woken = signal.await(
                        seen, Math.min(pauses.delayBefore(++unwoken, () -> 0.0).toNanos(), remaining));
                unwoken = woken ? 0 : unwoken;
            }
        } catch (UnavailableException e) {
            unreachable = true;
            throw e;
        } finally {
            waits.remove(request.owner());
            wakeups.unregister(signal);
            if (!granted && (!unreachable || isClosing())) {
                cancelQuietly(request); // a closing client's wait leaves now: nobody will try again
            }
        }
    }

    private boolean isClosing() {
        pollGate.readLock().lock();
        try {
            return closing;
        } finally {
            pollGate.readLock().unlock();
        }
    }

    /** One try (waitMs 0) or one poll of a queued wait (waitMs: what is left of its wait). */
    private Optional<Grant> poll(LockRequest request, long waitMillis) {
        String name = request.name();
        List<Object> reply;
        pollGate.readLock().lock();
        try {
            if (closing) {
                throw new UnavailableException("redis: the client is closing");
            }
            reply = scripts.acquire(request, waitMillis, grants.floor());
        } catch (RedisCalls.SizeConflict e) {
            throw new InvalidArgumentException(
                    name + " is in use with " + e.permits() + " permits; this request says " + request.maxPermits());
        } finally {
            pollGate.readLock().unlock();
        }
        long token = (Long) reply.get(0);
        if (token == 0) {
            return Optional.empty();
        }
        if (settings.replicas() > 0) {
            try {
                awaitReplicas("the grant of " + request.describe());
            } catch (RuntimeException e) {
                cancelQuietly(request); // gives back the grant the replicas did not confirm
                throw e;
            }
        }
        if ((Long) reply.get(1) == 1) {
            log.warn(
                    "redis: the token counter {} at {} was below the highest token this client had seen ({});"
                            + " raised it (did Redis restart without persistence?)",
                    keys.counter(name),
                    settings.display(),
                    grants.highest());
        }
        return Optional.of(grants.adopt(request, token));
    }

    /** Waits until {@code replicas=N} replicas have every write of this connection so far ({@link RedisCalls#awaitReplicas}). */
    void awaitReplicas(String what) {
        calls.awaitReplicas(what, settings.replicas());
    }

    /** Takes a wait off the queue (and gives back a grant that raced it); failures only logged. */
    private void cancelQuietly(LockRequest request) {
        if (abandoned || closed.get() || !link.isOpen()) {
            // Its queue entry lapses once it has not been polled for the request's expiry; while
            // Redis is unreachable, a cancel would only wait out another request timeout.
            return;
        }
        try {
            scripts.cancel(request, grants.floor());
        } catch (RuntimeException e) {
            log.debug("redis: could not take a wait for {} off the queue; it lapses by itself", request.describe(), e);
        }
    }

    @Override
    public boolean renew(Grant grant) {
        LockRequest request = grant.request();
        long renewed = scripts.renew(request, grant.token());
        if (renewed == 0) {
            grants.forget(grant);
        } else if (renewed == 1) {
            awaitReplicas("the renewal of " + request.describe());
        }
        return renewed == 1;
    }

    @Override
    public boolean release(Grant grant) {
        try {
            return scripts.release(grant.request(), grant.token(), grants.floor()) == 1;
        } finally {
            grants.forget(grant);
        }
    }

    /** Sleeps until a message on the target's watch channel, or {@code maxNanos} ({@link RedisWatches}). */
    @Override
    public void awaitWatched(io.holdfast.WatchTarget target, long maxNanos) throws InterruptedException {
        watches.await(target, maxNanos);
    }

    @Override
    public Admin admin() {
        return new RedisAdmin(this);
    }

    @Override
    public void abandon() {
        abandoned = true;
        keyStore.close(false);
        calls.stop("redis: the client has crashed (test); nothing reaches the store");
        link.abandon();
    }

    @Override
    public void close() {
        if (!abandoned) {
            pollGate.writeLock().lock();
            try {
                closing = true;
            } finally {
                pollGate.writeLock().unlock();
            }
            for (LockRequest wait : waits.values()) {
                cancelQuietly(wait); // the waiting thread may already be gone with its own cancel
            }
            keyStore.close(link.isOpen());
        }
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        calls.stop("redis: the client is closed");
        link.close(abandoned);
        wakeAll(); // watches asleep end their pause and find the client closed
    }

    /** Wakes every waiter and watch: messages may have been missed, or the client closed. */
    private void wakeAll() {
        wakeups.changedAll();
        RedisWatches to = watches;
        if (to != null) {
            to.wakeAll();
        }
    }

    // ---- pub/sub

    /** A message on the events channel: of grants ({@link RedisGrants#told}). */
    private void onMessage(String message) {
        grants.told(message, wakeups, sink);
    }

    private void onWatchMessage(String channelOrPattern, boolean pattern) {
        RedisWatches to = watches;
        if (to != null) {
            to.told(channelOrPattern, pattern);
        }
    }

    // ---- calls

    boolean cluster() {
        return settings.cluster();
    }

    RedisKeyLayout layout() {
        return keys;
    }

    String prefix() {
        return settings.prefix();
    }

    /** The lock scripts, as this client calls them. */
    LockScripts scripts() {
        return scripts;
    }

    /** The floor of tokens this client gives the scripts ({@link RedisGrants#floor()}). */
    String floor() {
        return grants.floor();
    }

    RedisWatches watches() {
        return watches;
    }

    @Override
    public io.holdfast.store.StoreRegisters registers() {
        return new RedisRegisters(this);
    }

    @Override
    public RedisKeyStore keys() {
        return keyStore;
    }

    <T> T run(LuaScript script, String what, String[] keys, String... args) {
        return calls.run(script, what, keys, args);
    }

    RedisCalls calls() {
        return calls;
    }

    @Override
    public String toString() {
        return "RedisBackend[" + settings.display() + ", prefix " + settings.prefix() + ", session " + session + "]";
    }
}
