package io.holdfast.jdbc.internal;

import io.holdfast.Ticker;
import io.holdfast.WatchTarget;
import io.holdfast.store.WatchSubscriptions;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Wakes waiters of a lock name early, within one JVM: released locally, or announced by PostgreSQL
 * NOTIFY. Shared by every client of the same store in the JVM. A wake-up that comes between a
 * waiter's failed attempt and its wait is missed; the waiter then finds out at its next poll, so
 * this only shortens waits, it never decides anything.
 *
 * <p>Watches sleep here too ({@link #awaitWatched}): a watch of a lock wakes on any change of it
 * ({@link #changed}, and every {@link #signal}), a watch of a prefix on a change of any name under
 * it, a watch of a register on a write of it ({@link #written}), a watch of keys on a write or
 * deletion of any key under its prefix. Nothing is subscribed to per
 * target (the notifications come for every name): {@link WatchSubscriptions} keeps a record of each
 * target's changes, for {@link WatchSubscriptions#IDLE} after the last sleep on it, so a watch
 * misses nothing that comes while it reads: a sleep returns at once if the target changed since
 * the same thread's previous sleep (or if that thread has no previous sleep on it).
 */
final class Wakeups {
    private static final Map<String, Wakeups> STORES = new ConcurrentHashMap<>();

    private static final class Signal {
        long generation;
        int waiters;
    }

    private final Map<String, Signal> signals = new HashMap<>();

    /** The watched targets' records; shared by clients with their own tickers, so on the JVM's clock. */
    private final WatchSubscriptions<WatchTarget> watched = new WatchSubscriptions<>(
            "jdbc",
            new WatchSubscriptions.Store<>() {
                @Override
                public WatchTarget open(WatchTarget target, WatchSubscriptions.Subscription subscription) {
                    subscription.ready(); // the notifications come for every name already
                    return target;
                }

                @Override
                public void close(WatchTarget target) {}
            },
            Ticker.system());

    static Wakeups of(String storeKey) {
        return STORES.computeIfAbsent(storeKey, k -> new Wakeups());
    }

    /** Waits up to {@code nanos}, or until {@link #signal} of this name or {@link #signalAll}. */
    void await(String name, long nanos) throws InterruptedException {
        Signal s;
        synchronized (this) {
            s = signals.computeIfAbsent(name, n -> new Signal());
            s.waiters++;
        }
        try {
            synchronized (s) {
                long generation = s.generation;
                long end = System.nanoTime() + nanos;
                long left = nanos;
                while (s.generation == generation && left > 0) {
                    TimeUnit.NANOSECONDS.timedWait(s, left);
                    left = end - System.nanoTime();
                }
            }
        } finally {
            synchronized (this) {
                if (--s.waiters == 0) {
                    signals.remove(name, s);
                }
            }
        }
    }

    /** Lock {@code name} may be free: wakes its waiters and its watches. */
    void signal(String name) {
        Signal s;
        synchronized (this) {
            s = signals.get(name);
        }
        if (s != null) {
            wake(s);
        }
        changed(name);
    }

    /** Wakes every waiter and watch (notifications may have been missed). */
    void signalAll() {
        Signal[] all;
        synchronized (this) {
            all = signals.values().toArray(new Signal[0]);
        }
        for (Signal s : all) {
            wake(s);
        }
        watched.wakeAll();
    }

    private static void wake(Signal s) {
        synchronized (s) {
            s.generation++;
            s.notifyAll();
        }
    }

    /** Lock {@code name} changed without being freed (a grant, a wait that began or ended): wakes its watches. */
    void changed(String name) {
        watched.changed(t -> switch (t.kind()) {
            case LOCK -> t.name().equals(name);
            case PREFIX -> name.startsWith(t.name());
            case REGISTER, KEYS -> false;
        });
    }

    /** Key (register) {@code key} was written or deleted: wakes its watches and those of its prefixes. */
    void written(String key) {
        watched.changed(t -> (t.kind() == WatchTarget.Kind.REGISTER && t.name().equals(key))
                || (t.kind() == WatchTarget.Kind.KEYS && key.startsWith(t.name())));
    }

    /**
     * Waits up to {@code nanos}, or until what {@code target} watches may have changed since this
     * thread's previous call for it (at once if it already has, or if there was none).
     */
    void awaitWatched(WatchTarget target, long nanos) throws InterruptedException {
        watched.await(target, nanos);
    }
}
