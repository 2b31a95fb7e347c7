package io.holdfast.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.WatchOption;
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
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What wakes the watches of one etcd client between their reads ({@link EtcdBackend#awaitWatched}):
 * one etcd watch per watched target, on the client's watch stream, of the lock's keys, of every
 * key under the prefix, or of the register's key. Every event on it wakes the target's sleepers.
 *
 * <p><b>What it guarantees.</b> Every change a watch follows is an event here, since every change
 * is a write of a key: a grant, a release, a wait that begins or ends, a session or a lease that
 * expires (etcd deletes its keys), a register written. A sleep ends within a round trip of it. A
 * change that comes while the watch reads is not lost: each watching thread remembers how many
 * events it had seen when it last woke, and its next sleep returns at once if there were more. So
 * does the first sleep on a new etcd watch (once etcd confirms it: a change before then was not
 * seen), which is why the etcd watch is kept from one sleep to the next rather than opened for
 * each: a watch opened from a past revision waits for etcd's catch-up loop (up to 100 ms) before it
 * reports what it missed.
 *
 * <p><b>What it does not.</b> The etcd watch is made on a target's first sleep and closed once no
 * sleep has used it for {@link #IDLE} (noticed by a later sleep of any watch), since a watch does
 * not tell its wakeup that it ended.
 *
 * <p><b>A failure story.</b> The etcd member restarts while a watch sleeps. jetcd resumes the etcd
 * watch from the revision after its last event when the member is back, so the changes meanwhile
 * come as events; if it cannot (the revision was compacted), the watch ends in an error, which
 * wakes the sleepers, and the next sleep makes a new one (and returns at once).
 */
final class EtcdWatches {
    private static final Logger log = LoggerFactory.getLogger(EtcdWatches.class);

    /** How long an etcd watch no sleep uses is kept, for the next sleep of its watch. */
    static final Duration IDLE = Duration.ofSeconds(10);

    /** The etcd watch of one target and the count of its events. */
    private static final class Subscription {
        final String key;
        final CompletableFuture<Void> created = new CompletableFuture<>();
        Watch.Watcher watcher;
        long events; // guarded by this
        volatile boolean ended;
        int users; // guarded by the map's compute on key, like lastUsed
        long lastUsed;

        Subscription(String key) {
            this.key = key;
        }

        synchronized void bump() {
            events++;
            notifyAll();
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

    /** What a thread last saw of a subscription. */
    private record Seen(Subscription subscription, long events) {}

    private final Watch watch;
    private final Function<WatchTarget, ByteSequence> keyOf;
    private final Ticker ticker;
    private final ConcurrentHashMap<String, Subscription> subscriptions = new ConcurrentHashMap<>();
    private final ThreadLocal<Map<String, Seen>> seen = ThreadLocal.withInitial(HashMap::new);
    private volatile long lastSweep;

    /** @param keyOf the key of a lock or register target, the key prefix of a prefix target */
    EtcdWatches(Watch watch, Function<WatchTarget, ByteSequence> keyOf, Ticker ticker) {
        this.watch = watch;
        this.keyOf = keyOf;
        this.ticker = ticker;
        this.lastSweep = ticker.nanos();
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
            if (!s.created.isDone()) {
                try {
                    s.created.get(maxNanos, TimeUnit.NANOSECONDS);
                } catch (TimeoutException e) {
                    return; // not in place yet: this was a pause of plain polling
                } catch (ExecutionException e) {
                    // ended before etcd confirmed it: made again by the next sleep
                }
            }
            long left = maxNanos - (System.nanoTime() - start);
            if (s.ended) {
                TimeUnit.NANOSECONDS.sleep(Math.max(0, left)); // polls until the next sleep makes a new one
                return;
            }
            Map<String, Seen> mine = seen.get();
            Seen last = mine.get(s.key);
            long events = s.events();
            if (last != null && last.subscription() == s && last.events() == events) {
                s.await(events, left);
                events = s.events();
            }
            mine.put(s.key, new Seen(s, events));
        } finally {
            done(s);
        }
    }

    private Subscription use(WatchTarget target) {
        String key = target.kind().name().charAt(0) + target.name();
        return subscriptions.compute(key, (k, s) -> {
            if (s == null || s.ended) {
                if (s != null) {
                    close(s);
                }
                s = open(k, target);
            }
            s.users++;
            return s;
        });
    }

    private Subscription open(String key, WatchTarget target) {
        Subscription s = new Subscription(key);
        WatchOption option = WatchOption.builder()
                .isPrefix(target.kind() != WatchTarget.Kind.REGISTER)
                .withCreateNotify(true)
                .build();
        try {
            s.watcher = watch.watch(
                    keyOf.apply(target),
                    option,
                    Watch.listener(
                            response -> {
                                if (response.isCreatedNotify()) {
                                    s.created.complete(null);
                                }
                                if (!response.getEvents().isEmpty()) {
                                    s.bump();
                                }
                            },
                            error -> end(s, error),
                            () -> end(s, null)));
        } catch (RuntimeException e) { // the client is closed
            end(s, e);
        }
        return s;
    }

    private static void end(Subscription s, Throwable error) {
        s.ended = true;
        s.created.completeExceptionally(error != null ? error : new IllegalStateException("the etcd watch ended"));
        s.bump();
    }

    /** Ends one sleep on {@code s}; closes the etcd watches nothing used for {@link #IDLE}. */
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
                close(sub);
                return null;
            });
        }
    }

    private static void close(Subscription s) {
        if (s.watcher != null) {
            try {
                s.watcher.close();
            } catch (RuntimeException e) {
                log.debug("closing an etcd watcher failed", e);
            }
        }
    }

    /** Closes every etcd watch (the client closes). */
    void close() {
        subscriptions.values().forEach(s -> {
            close(s);
            s.bump();
        });
        subscriptions.clear();
    }

    /** How many etcd watches are open for watches (for tests). */
    int watching() {
        return subscriptions.size();
    }
}
