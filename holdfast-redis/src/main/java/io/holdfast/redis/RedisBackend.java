// Ceiling 540 lines, one idea: the StoreBackend primitives on Redis (try, queued wait with wake-ups
// and polls, renew, release, close), which share the wake-ups, the held set and the close gate. How
// it connects is RedisLink, how calls are bounded RedisCalls, the atomic steps the *.lua scripts.
package io.holdfast.redis;

import io.holdfast.Admin;
import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockMode;
import io.holdfast.RetryPolicy;
import io.holdfast.UnavailableException;
import io.holdfast.internal.Backoffs;
import io.holdfast.store.Deadline;
import io.holdfast.store.Grant;
import io.holdfast.store.LockRequest;
import io.holdfast.store.LossSink;
import io.holdfast.store.StoreBackend;
import io.lettuce.core.ScriptOutputType;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
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
 * change is one Lua script ({@code *.lua} beside this class, with the shared functions of {@code
 * queue.lua} in front), so Redis runs it atomically. A script that frees anything (release, cancel,
 * revoke, or a poll that finds an expired holder) grants the head of the queue in the same step,
 * taking tokens from the one counter {@code <prefix>token} that every name shares (on a Redis
 * Cluster, the name's own counter in the name's slot: {@link RedisKeyLayout}; either never falls below
 * Redis's clock, 1024 per millisecond since 1970 counted to the microsecond, so a restart or a
 * failover that lost its last increments, or all of it, does not give a token twice), and publishes
 * {@code G<token>:<owner>} on {@code <prefix>events}; the client of that owner wakes just that
 * waiter ({@link Wakeups}), which returns without another round trip. Waiters also poll (at most
 * every second, or a quarter of their expiry), which keeps their queue entry alive, lets a grant
 * that expired by itself pass to the next waiter, and covers lost messages. Expiry is always
 * Redis's {@code TIME}, never this client's clock.
 *
 * <p>Calls go through {@link RedisCalls}: bounded by the request timeout, failures as {@link
 * UnavailableException}.
 */
final class RedisBackend implements StoreBackend {
    private static final Logger log = LoggerFactory.getLogger(RedisBackend.class);

    private static final String QUEUE_LIBRARY = "queue";
    private static final LuaScript ACQUIRE = LuaScript.load("acquire", QUEUE_LIBRARY, ScriptOutputType.MULTI);
    private static final LuaScript RELEASE = LuaScript.load("release", QUEUE_LIBRARY, ScriptOutputType.INTEGER);
    private static final LuaScript CANCEL = LuaScript.load("cancel", QUEUE_LIBRARY, ScriptOutputType.INTEGER);
    static final LuaScript REVOKE = LuaScript.load("revoke", QUEUE_LIBRARY, ScriptOutputType.INTEGER);
    private static final LuaScript RENEW = LuaScript.load("renew", ScriptOutputType.INTEGER);
    static final LuaScript CHECK = LuaScript.load("check", ScriptOutputType.INTEGER);
    static final LuaScript DESCRIBE = LuaScript.load("describe", ScriptOutputType.MULTI);

    /** The longest {@code WAIT} for replicas (see {@link #awaitReplicas}). */
    private static final long MAX_REPLICA_WAIT_MILLIS = 2_000;

    private final RedisSettings settings;
    private final ClientOptions options;
    private final String session = UUID.randomUUID().toString();
    private final String clientName;
    private final RedisKeyLayout keys;
    private final String channel;
    private final Wakeups wakeups = new Wakeups();
    private final ConcurrentHashMap<String, Set<Grant>> held = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, LockRequest> waits = new ConcurrentHashMap<>();
    private final AtomicLong highestToken = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Polls hold it to read; {@link #close()} takes it to write, so no poll queues a wait after close's cancels. */
    private final ReentrantReadWriteLock pollGate = new ReentrantReadWriteLock();

    private final RedisCalls calls;

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
                        ? Optional.of(adopt(request, signal.token()))
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
            reply = run(
                    ACQUIRE,
                    request.describe(),
                    queueKeys(name, true),
                    request.owner(),
                    modeCode(request.mode()),
                    Integer.toString(request.permits()),
                    Integer.toString(request.maxPermits()),
                    Long.toString(millis(request)),
                    floor(),
                    session,
                    clientName,
                    request.leaseTimeout() ? "1" : "0",
                    Long.toString(waitMillis),
                    channel,
                    watchChannel(name));
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
                    highestToken.get());
        }
        return Optional.of(adopt(request, token));
    }

    private Grant adopt(LockRequest request, long token) {
        highestToken.accumulateAndGet(token, Math::max);
        Grant grant = new Grant(request, token);
        held.compute(request.name(), (n, grants) -> {
            Set<Grant> set = grants == null ? ConcurrentHashMap.newKeySet() : grants;
            set.add(grant);
            return set;
        });
        return grant;
    }

    /**
     * Waits until {@code settings.replicas()} replicas have every write of this connection so far
     * (Redis {@code WAIT}, for at most half the request timeout and never more than 2 s: the
     * connection is blocked meanwhile).
     *
     * @throws UnavailableException if fewer replicas have it by then; the write stays on the
     *     primary, and a failover may or may not keep it
     */
    void awaitReplicas(String what) {
        int wanted = settings.replicas();
        if (wanted == 0) {
            return;
        }
        long waitMillis = Math.max(1, Math.min(options.requestTimeout().toMillis() / 2, MAX_REPLICA_WAIT_MILLIS));
        long got = calls.awaitReplication("wait until " + wanted + " replica(s) have " + what, wanted, waitMillis);
        if (got < wanted) {
            throw new UnavailableException("redis: " + what + " reached " + got + " of the " + wanted
                    + " replica(s) it needs (replicas=" + wanted + ") within " + waitMillis + " ms at "
                    + settings.display() + "; not acknowledged");
        }
    }

    /** Takes a wait off the queue (and gives back a grant that raced it); failures only logged. */
    private void cancelQuietly(LockRequest request) {
        if (abandoned || closed.get() || !link.isOpen()) {
            // Its queue entry lapses once it has not been polled for the request's expiry; while
            // Redis is unreachable, a cancel would only wait out another request timeout.
            return;
        }
        try {
            run(
                    CANCEL,
                    "leave the queue of " + request.name(),
                    queueKeys(request.name(), false),
                    request.owner(),
                    floor(),
                    channel,
                    watchChannel(request.name()));
        } catch (RuntimeException e) {
            log.debug("redis: could not take a wait for {} off the queue; it lapses by itself", request.describe(), e);
        }
    }

    @Override
    public boolean renew(Grant grant) {
        LockRequest request = grant.request();
        long renewed = this.<Long>run(
                RENEW,
                "renew " + request.describe(),
                new String[] {keys.holders(request.name())},
                request.owner(),
                Long.toString(grant.token()),
                Long.toString(millis(request)));
        if (renewed == 0) {
            forget(grant);
        } else if (renewed == 1) {
            awaitReplicas("the renewal of " + request.describe());
        }
        return renewed == 1;
    }

    @Override
    public boolean release(Grant grant) {
        LockRequest request = grant.request();
        try {
            long released = this.<Long>run(
                    RELEASE,
                    "release " + request.describe(),
                    queueKeys(request.name(), false),
                    request.owner(),
                    Long.toString(grant.token()),
                    floor(),
                    channel,
                    watchChannel(request.name()));
            return released == 1;
        } finally {
            forget(grant);
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

    /** {@code G<token>:<owner>}: Redis granted a queued wait; {@code V<highest token>:<name>}: an operator revoked. */
    private void onMessage(String message) {
        int colon = message.indexOf(':');
        if (message.length() < 2 || colon < 0) {
            return;
        }
        long token;
        try {
            token = Long.parseLong(message.substring(1, colon));
        } catch (NumberFormatException e) {
            log.debug("redis: ignoring a malformed message on {}: {}", channel, message);
            return;
        }
        if (message.charAt(0) == 'G') {
            wakeups.granted(message.substring(colon + 1), token);
        } else if (message.charAt(0) == 'V') {
            revoked(message.substring(colon + 1), token);
        }
    }

    private void onWatchMessage(String channelOrPattern, boolean pattern) {
        RedisWatches to = watches;
        if (to != null) {
            to.told(channelOrPattern, pattern);
        }
    }

    private void revoked(String name, long upTo) {
        Set<Grant> grants = held.get(name);
        LossSink to = sink;
        if (grants == null || to == null) {
            return;
        }
        for (Grant grant : grants) {
            if (grant.token() <= upTo && grants.remove(grant)) {
                to.lost(grant, "an operator revoked it");
            }
        }
    }

    private void forget(Grant grant) {
        held.computeIfPresent(grant.request().name(), (n, grants) -> {
            grants.remove(grant);
            return grants.isEmpty() ? null : grants;
        });
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

    /** The keys of the queue scripts: holders, queue, waiters, token counter, and the arrival counter if asked. */
    String[] queueKeys(String name, boolean arrivals) {
        String[] all = {
            keys.holders(name), keys.queue(name), keys.waiters(name), keys.counter(name), keys.arrivals(name)
        };
        return arrivals ? all : java.util.Arrays.copyOf(all, 4);
    }

    String channel() {
        return channel;
    }

    /** Where the scripts tell the watches of {@code name} that it changed ({@link RedisWatches}). */
    String watchChannel(String name) {
        return RedisWatches.lockChannel(settings.prefix(), name);
    }

    RedisWatches watches() {
        return watches;
    }

    String floor() {
        return Long.toString(highestToken.get());
    }

    private static String modeCode(LockMode mode) {
        return switch (mode) {
            case EXCLUSIVE -> "E";
            case SHARED -> "S";
            case PERMITS -> "P";
        };
    }

    private static long millis(LockRequest request) {
        return Math.max(1, request.expiry().toMillis());
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
