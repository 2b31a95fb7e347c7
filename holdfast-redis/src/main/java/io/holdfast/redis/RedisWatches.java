package io.holdfast.redis;

import io.holdfast.Ticker;
import io.holdfast.WatchTarget;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What wakes the watches of one Redis client between their reads ({@link
 * RedisBackend#awaitWatched}). Every script that changes a name (a grant, a release, a wait that
 * begins or ends, a revoke, an expired entry cleared away) publishes an empty message on the name's
 * watch channel, {@code <prefix>watch:lock:<name>}, and a register write on {@code
 * <prefix>watch:reg:<key>}. A watch of a lock or register subscribes to that channel, a watch of a
 * prefix to the pattern of every name under it, on the client's one pub/sub connection, and sleeps
 * on a {@link Wakeups.Signal} until a message comes or its pause ends.
 *
 * <p><b>What it guarantees.</b> A change made through a Holdfast client wakes every watch of it
 * within a round trip of Redis's pub/sub. A message that comes while the watch reads is not lost:
 * each watching thread remembers the signal's version when it last woke, so its next sleep returns
 * at once. So does the first sleep after a subscription is made (a change before it was in place
 * was not heard) and every sleep after a reconnect (messages may have been missed).
 *
 * <p><b>What it does not.</b> A grant that lapses by itself publishes nothing (Redis does not run
 * the script that would notice until someone touches the name), nor does a change made by an older
 * client whose scripts do not publish: a watch sees those at its next read, which its pause bounds.
 * Subscriptions are made on a target's first sleep and dropped once no sleep has used them for
 * {@link #IDLE} (noticed by a later sleep of any watch), since a watch does not tell its wakeup that
 * it ended.
 *
 * <p><b>A failure story.</b> Redis restarts while a watch sleeps. Its sleep ends at its pause, its
 * read fails and is retried by the watch; Lettuce reconnects the pub/sub connection and subscribes
 * again to every channel and pattern it had, and the reconnect wakes every watch, which reads at
 * once and reports what changed meanwhile.
 */
final class RedisWatches {
    private static final Logger log = LoggerFactory.getLogger(RedisWatches.class);

    /** How long a subscription no sleep uses is kept, for the next sleep of its watch. */
    static final Duration IDLE = Duration.ofSeconds(10);

    /** One subscription: a channel, or the pattern of a prefix. */
    private static final class Subscription {
        final String key;
        final String channel;
        final boolean pattern;
        final Wakeups.Signal signal;
        /** Guarded by the map's compute on {@link #key}, like {@link #users} and {@link #lastUsed}. */
        CompletableFuture<Void> ready;

        int users;
        long lastUsed;

        Subscription(String key, String channel, boolean pattern, Wakeups.Signal signal) {
            this.key = key;
            this.channel = channel;
            this.pattern = pattern;
            this.signal = signal;
        }
    }

    /** The version a thread last saw of a signal. */
    private record Seen(Wakeups.Signal signal, long version) {}

    private final RedisLink link;
    private final Wakeups wakeups;
    private final String prefix;
    private final Ticker ticker;
    private final ConcurrentHashMap<String, Subscription> subscriptions = new ConcurrentHashMap<>();
    /** Per watching thread (one per watch): what it saw of each subscription when it last woke. */
    private final ThreadLocal<Map<String, Seen>> seen = ThreadLocal.withInitial(HashMap::new);

    private volatile long lastSweep;

    RedisWatches(RedisLink link, Wakeups wakeups, String prefix, Ticker ticker) {
        this.link = link;
        this.wakeups = wakeups;
        this.prefix = prefix;
        this.ticker = ticker;
        this.lastSweep = ticker.nanos();
    }

    /** The channel the scripts tell of a change of lock {@code name}. */
    static String lockChannel(String prefix, String name) {
        return prefix + "watch:lock:" + name;
    }

    /** The channel a write of register {@code key} is told on. */
    static String registerChannel(String prefix, String key) {
        return prefix + "watch:reg:" + key;
    }

    /** A message came on {@code channel}, or on a channel that matched the watch pattern {@code pattern}. */
    void told(String channelOrPattern, boolean pattern) {
        wakeups.changed(key(channelOrPattern, pattern));
    }

    /**
     * Sleeps up to {@code maxNanos}, or until what {@code target} watches may have changed.
     *
     * @throws InterruptedException if the thread is interrupted
     */
    void await(WatchTarget target, long maxNanos) throws InterruptedException {
        long start = System.nanoTime();
        Subscription s = use(target);
        try {
            if (!s.ready.isDone()) {
                try {
                    s.ready.get(maxNanos, TimeUnit.NANOSECONDS);
                } catch (TimeoutException e) {
                    return; // not in place yet: this was a pause of plain polling
                } catch (ExecutionException e) {
                    log.debug("redis: could not subscribe to {}; the watch polls", s.channel, e.getCause());
                }
            }
            long left = maxNanos - (System.nanoTime() - start);
            if (s.ready.isCompletedExceptionally()) {
                TimeUnit.NANOSECONDS.sleep(Math.max(0, left)); // subscribed again by the next sleep
                return;
            }
            Map<String, Seen> mine = seen.get();
            Seen last = mine.get(s.key);
            long version = s.signal.version();
            if (last != null && last.signal() == s.signal && last.version() == version && left > 0) {
                s.signal.await(version, left);
                version = s.signal.version();
            }
            mine.put(s.key, new Seen(s.signal, version));
        } finally {
            done(s);
        }
    }

    /** The subscription of {@code target}, subscribed now if it was not (or its subscribe failed). */
    private Subscription use(WatchTarget target) {
        boolean pattern = target.kind() == WatchTarget.Kind.PREFIX;
        String channel = switch (target.kind()) {
            case LOCK -> lockChannel(prefix, target.name());
            case REGISTER -> registerChannel(prefix, target.name());
            case PREFIX -> RedisAdmin.glob(lockChannel(prefix, target.name())) + "*";
        };
        return subscriptions.compute(key(channel, pattern), (key, s) -> {
            if (s == null) {
                s = new Subscription(key, channel, pattern, wakeups.watch(key));
            }
            if (s.ready == null || s.ready.isCompletedExceptionally()) {
                // Sent inside the compute, so that its SUBSCRIBE and a sweep's UNSUBSCRIBE of the
                // same channel leave for Redis in the order they were decided.
                s.ready = subscribe(channel, pattern);
                s.signal.bump(); // what changed before it is in place was not heard: read once more
            }
            s.users++;
            return s;
        });
    }

    private CompletableFuture<Void> subscribe(String channel, boolean pattern) {
        try {
            return link.subscribe(channel, pattern).toCompletableFuture();
        } catch (RuntimeException e) { // the connection is closed
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Ends one sleep on {@code s}; drops the subscriptions nothing used for {@link #IDLE}. */
    private void done(Subscription s) {
        long now = ticker.nanos();
        subscriptions.computeIfPresent(s.key, (key, sub) -> {
            sub.users--;
            sub.lastUsed = now;
            return sub;
        });
        long idle = IDLE.toNanos();
        if (now - lastSweep < idle / 2) {
            return;
        }
        lastSweep = now;
        for (String key : subscriptions.keySet()) {
            subscriptions.computeIfPresent(key, (k, sub) -> {
                if (sub.users > 0 || now - sub.lastUsed < idle) {
                    return sub;
                }
                wakeups.unwatch(sub.signal);
                try {
                    link.unsubscribe(sub.channel, sub.pattern);
                } catch (RuntimeException e) {
                    log.debug("redis: could not unsubscribe from {}", sub.channel, e);
                }
                return null;
            });
        }
    }

    /** How many channels and patterns this client is subscribed to for watches (for tests). */
    int subscriptions() {
        return subscriptions.size();
    }

    /** A channel and a pattern may be spelled alike (a lock named {@code a*}): keys tell them apart. */
    private static String key(String channelOrPattern, boolean pattern) {
        return (pattern ? "P" : "C") + channelOrPattern;
    }
}
