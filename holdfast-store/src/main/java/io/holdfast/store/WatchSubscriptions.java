package io.holdfast.store;

import io.holdfast.Ticker;
import io.holdfast.WatchTarget;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What wakes the watches of one store client between their reads ({@link
 * StoreBackend#awaitWatched}): one subscription of the store per watched target (a Redis channel,
 * an etcd watch, a persistent ZooKeeper watch, or nothing but a record where the store's wake-ups
 * come from elsewhere), kept from one sleep to the next, and a count of its events that the
 * target's sleepers wait on. The store's own part is a {@link Store}: how to subscribe to what a
 * target follows and how to unsubscribe; it reports through the {@link Subscription} it is handed
 * when the subscription is in place, each event, and its end.
 *
 * <p><b>What it guarantees.</b> A sleep ends within a thread hand-off of an event the store reports
 * ({@link Subscription#changed}). A change that comes while the watch reads is not lost: each
 * watching thread remembers how many events it had seen of the target's subscription when it last
 * woke, and its next sleep returns at once if there were more. So does the first sleep on a new
 * subscription, once the store says it is in place (a change before then was not heard), and every
 * sleep after {@link #wakeAll} (the store reconnected: changes meanwhile may have been missed). A
 * subscription is kept from one sleep to the next, rather than made for each, since a store may
 * need a round trip or more to put one in place.
 *
 * <p><b>What it does not.</b> It hears only what the store reports: whatever the store does not
 * tell of is seen at the watch's next read, which its pause bounds. It decides nothing: every
 * sleep is bounded, and a spurious wake-up costs one read. It is not told when a watch ends: a
 * subscription is made on its target's first sleep and closed once no sleep has used it for {@link
 * #IDLE}, noticed by a later sleep of any watch. Until a subscription is in place, or after it
 * ended, a sleep is a plain pause.
 *
 * <p><b>A failure story.</b> The store's connection drops while a watch sleeps. If the store's
 * client resubscribes by itself it calls {@link #wakeAll} when it is back, and the watch reads at
 * once and reports what changed meanwhile; if the subscription is gone (an etcd watch of a
 * compacted revision, a ZooKeeper watch whose session expired) the store reports its {@linkplain
 * Subscription#ended end}, which wakes the sleepers, and the next sleep of the target makes a new
 * one and returns at once.
 *
 * @param <S> what the store keeps of one subscription, to close it
 */
public final class WatchSubscriptions<S> {
    private static final Logger log = LoggerFactory.getLogger(WatchSubscriptions.class);

    /** How long a subscription no sleep uses is kept, for the next sleep of its watch. */
    public static final Duration IDLE = Duration.ofSeconds(10);

    /**
     * A store's part: subscribing to what a target follows and unsubscribing. Called inside the
     * bookkeeping of the target's key, so a subscription and the unsubscription of the same key
     * leave for the store in the order they were decided; neither may block for a round trip.
     *
     * @param <S> what the store keeps of one subscription
     */
    public interface Store<S> {
        /**
         * The key under which {@code target}'s subscription is kept; targets of one key share a
         * subscription. By default its kind and name (a lock, a prefix and a register may be
         * spelled alike).
         */
        default String key(WatchTarget target) {
            return target.kind().name().charAt(0) + target.name();
        }

        /**
         * Subscribes to what {@code target} follows, telling {@code subscription} once it is in
         * place, of every event, and of its end.
         *
         * @return what {@link #close} needs; an exception counts as an ended subscription, and the
         *     target's next sleep tries again
         */
        S open(WatchTarget target, Subscription subscription) throws Exception;

        /** Unsubscribes (idle, or replaced after its end); quietly, in the background if need be. */
        void close(S opened);
    }

    /** The events of one subscription, as its store reports them. */
    public static final class Subscription {
        private final CompletableFuture<Void> ready = new CompletableFuture<>();
        private volatile boolean ended;
        private long events; // guarded by this

        Subscription() {}

        /** The subscription is in place: every change from now on is an event. */
        public void ready() {
            ready.complete(null);
        }

        /** What the target follows may have changed, or the store cannot tell (it reconnected). */
        public synchronized void changed() {
            events++;
            notifyAll();
        }

        /** The subscription ended, or was never made: wakes its sleepers; the next sleep makes a new one. */
        public void ended(Throwable cause) {
            ended = true;
            ready.completeExceptionally(cause);
            changed();
        }

        synchronized long events() {
            return events;
        }

        /** Sleeps until the count differs from {@code seen} or {@code nanos} pass. */
        synchronized void await(long seen, long nanos) throws InterruptedException {
            long end = System.nanoTime() + nanos;
            for (long left = nanos; events == seen && left > 0; left = end - System.nanoTime()) {
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }
    }

    /** One subscription with what the store keeps of it and who uses it. */
    private static final class Entry<S> {
        final String key;
        final WatchTarget target;
        final Subscription subscription = new Subscription();
        S opened;
        int users; // guarded by the map's compute on key, like lastUsed
        long lastUsed;

        Entry(String key, WatchTarget target) {
            this.key = key;
            this.target = target;
        }
    }

    /** What a thread last saw of a subscription. */
    private record Seen(Subscription subscription, long events) {}

    private final String provider;
    private final Store<S> store;
    private final Ticker ticker;
    private final ConcurrentHashMap<String, Entry<S>> entries = new ConcurrentHashMap<>();
    /** Per watching thread (one per watch): what it saw of each subscription when it last woke. */
    private final ThreadLocal<Map<String, Seen>> seen = ThreadLocal.withInitial(HashMap::new);

    private volatile long lastSweep;

    /**
     * @param provider the store's short name, for log lines
     * @param ticker the client's, which measures {@link #IDLE}
     */
    public WatchSubscriptions(String provider, Store<S> store, Ticker ticker) {
        this.provider = provider;
        this.store = store;
        this.ticker = ticker;
        this.lastSweep = ticker.nanos();
    }

    /**
     * Sleeps up to {@code maxNanos}, or until what {@code target} watches may have changed.
     *
     * @throws InterruptedException if the thread is interrupted
     */
    public void await(WatchTarget target, long maxNanos) throws InterruptedException {
        long start = System.nanoTime();
        Entry<S> e = use(target);
        Subscription s = e.subscription;
        try {
            if (!s.ready.isDone()) {
                try {
                    s.ready.get(maxNanos, TimeUnit.NANOSECONDS);
                } catch (TimeoutException notYet) {
                    return; // not in place yet: this was a pause of plain polling
                } catch (ExecutionException failed) {
                    log.debug("{}: could not subscribe to {}; the watch polls", provider, target, failed.getCause());
                }
            }
            long left = maxNanos - (System.nanoTime() - start);
            if (s.ended) {
                TimeUnit.NANOSECONDS.sleep(Math.max(0, left)); // polls until the next sleep makes a new one
                return;
            }
            Map<String, Seen> mine = seen.get();
            Seen last = mine.get(e.key);
            long events = s.events();
            if (last != null && last.subscription() == s && last.events() == events) {
                s.await(events, left);
                events = s.events();
            }
            mine.put(e.key, new Seen(s, events));
        } finally {
            done(e);
        }
    }

    /** The subscription of {@code target}, made now if there was none or it ended. */
    private Entry<S> use(WatchTarget target) {
        return entries.compute(store.key(target), (key, e) -> {
            if (e == null || e.subscription.ended) {
                if (e != null) {
                    close(e);
                }
                e = open(key, target);
            }
            e.users++;
            return e;
        });
    }

    private Entry<S> open(String key, WatchTarget target) {
        Entry<S> e = new Entry<>(key, target);
        try {
            e.opened = store.open(target, e.subscription);
        } catch (Exception failed) { // the client is closed
            e.subscription.ended(failed);
        }
        return e;
    }

    private void close(Entry<S> e) {
        if (e.opened == null) {
            return;
        }
        try {
            store.close(e.opened);
        } catch (RuntimeException failed) {
            log.debug("{}: could not unsubscribe from {}", provider, e.target, failed);
        }
    }

    /** Ends one sleep on {@code e}; closes the subscriptions nothing used for {@link #IDLE}. */
    private void done(Entry<S> e) {
        long now = ticker.nanos();
        entries.computeIfPresent(e.key, (key, current) -> {
            if (current == e) { // not one made since e ended
                current.users--;
                current.lastUsed = now;
            }
            return current;
        });
        long idle = IDLE.toNanos();
        if (now - lastSweep < idle / 2) {
            return;
        }
        lastSweep = now;
        for (String key : entries.keySet()) {
            entries.computeIfPresent(key, (k, current) -> {
                if (current.users > 0 || now - current.lastUsed < idle) {
                    return current;
                }
                close(current);
                return null;
            });
        }
    }

    /** Wakes the sleepers of the subscription kept under {@code key} ({@link Store#key}), if there is one. */
    public void changed(String key) {
        Entry<S> e = entries.get(key);
        if (e != null) {
            e.subscription.changed();
        }
    }

    /** Wakes the sleepers of every subscription whose target {@code affected} accepts. */
    public void changed(Predicate<WatchTarget> affected) {
        for (Entry<S> e : entries.values()) {
            if (affected.test(e.target)) {
                e.subscription.changed();
            }
        }
    }

    /** Wakes every sleeper (the store reconnected, or the client closes: changes may have been missed). */
    public void wakeAll() {
        entries.values().forEach(e -> e.subscription.changed());
    }

    /**
     * Ends every subscription (the client closes): wakes its sleepers and forgets it. Returns what
     * the store keeps of them, for the store to close or to leave to its session's end.
     */
    public List<S> endAll() {
        List<S> opened = new ArrayList<>();
        for (String key : entries.keySet()) {
            entries.computeIfPresent(key, (k, e) -> {
                e.subscription.ended(new IllegalStateException("the " + provider + " client is closed"));
                if (e.opened != null) {
                    opened.add(e.opened);
                }
                return null;
            });
        }
        return opened;
    }

    /** How many subscriptions are kept (for tests). */
    public int size() {
        return entries.size();
    }
}
