package io.holdfast.redis;

import io.holdfast.Ticker;
import io.holdfast.WatchTarget;
import io.holdfast.store.WatchSubscriptions;

/**
 * What wakes the watches of one Redis client between their reads ({@link
 * RedisBackend#awaitWatched}). Every script that changes a name (a grant, a release, a wait that
 * begins or ends, a revoke, an expired entry cleared away) publishes an empty message on the name's
 * watch channel, {@code <prefix>watch:lock:<name>}, and a register write on {@code
 * <prefix>watch:reg:<key>} (a key is a register: {@link RedisKeyStore}). A watch of a lock or
 * register subscribes to that channel, a watch of a prefix of locks or keys to the pattern of every
 * name under it, on the client's one pub/sub connection, and sleeps
 * until a message comes or its pause ends; the bookkeeping of who sleeps on which subscription, and
 * for how long it is kept, is {@link WatchSubscriptions}'.
 *
 * <p><b>What it guarantees.</b> A change made through a Holdfast client wakes every watch of it
 * within a round trip of Redis's pub/sub. The first sleep after a subscription is made returns at
 * once (a change before it was in place was not heard), and so does every sleep after a reconnect
 * ({@link #wakeAll}: messages may have been missed).
 *
 * <p><b>What it does not.</b> A grant that lapses by itself publishes nothing (Redis does not run
 * the script that would notice until someone touches the name), nor does a key whose time to live
 * or session lapsed until a script sweeps it away, nor does a change made by an older
 * client whose scripts do not publish: a watch sees those at its next read, which its pause bounds.
 * Subscriptions are made on a target's first sleep and dropped once no sleep has used them for
 * {@link WatchSubscriptions#IDLE}, since a watch does not tell its wakeup that it ended.
 *
 * <p><b>A failure story.</b> Redis restarts while a watch sleeps. Its sleep ends at its pause, its
 * read fails and is retried by the watch; Lettuce reconnects the pub/sub connection and subscribes
 * again to every channel and pattern it had, and the reconnect wakes every watch, which reads at
 * once and reports what changed meanwhile.
 */
final class RedisWatches implements WatchSubscriptions.Store<RedisWatches.Channel> {
    /** What a watch subscribes to: a channel, or the pattern of a prefix. */
    record Channel(String name, boolean pattern) {}

    private final RedisLink link;
    private final String prefix;
    private final WatchSubscriptions<Channel> subscriptions;

    RedisWatches(RedisLink link, String prefix, Ticker ticker) {
        this.link = link;
        this.prefix = prefix;
        this.subscriptions = new WatchSubscriptions<>("redis", this, ticker);
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
        subscriptions.changed(key(channelOrPattern, pattern));
    }

    /** Wakes every watch (the subscription was re-established: messages may have been missed). */
    void wakeAll() {
        subscriptions.wakeAll();
    }

    /**
     * Sleeps up to {@code maxNanos}, or until what {@code target} watches may have changed.
     *
     * @throws InterruptedException if the thread is interrupted
     */
    void await(WatchTarget target, long maxNanos) throws InterruptedException {
        subscriptions.await(target, maxNanos);
    }

    private Channel channel(WatchTarget target) {
        return switch (target.kind()) {
            case LOCK -> new Channel(lockChannel(prefix, target.name()), false);
            case REGISTER -> new Channel(registerChannel(prefix, target.name()), false);
            case PREFIX -> new Channel(RedisAdmin.glob(lockChannel(prefix, target.name())) + "*", true);
            case KEYS -> new Channel(RedisAdmin.glob(registerChannel(prefix, target.name())) + "*", true);
        };
    }

    @Override
    public String key(WatchTarget target) {
        Channel c = channel(target);
        return key(c.name(), c.pattern());
    }

    /** Subscribes; sent at once, so that it and an unsubscribe of the same channel leave in order. */
    @Override
    public Channel open(WatchTarget target, WatchSubscriptions.Subscription s) {
        Channel c = channel(target);
        link.subscribe(c.name(), c.pattern()).whenComplete((ok, failed) -> {
            if (failed == null) {
                s.ready();
            } else {
                s.ended(failed);
            }
        });
        return c;
    }

    @Override
    public void close(Channel c) {
        link.unsubscribe(c.name(), c.pattern());
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
