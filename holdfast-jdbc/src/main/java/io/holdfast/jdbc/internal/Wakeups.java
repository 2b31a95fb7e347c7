package io.holdfast.jdbc.internal;

import io.holdfast.WatchTarget;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
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
 * it, a watch of a register on a write of it ({@link #written}). A watch misses nothing that comes
 * while it reads: its sleeps share a record of the target's changes, kept for {@link #IDLE_NANOS}
 * after the last sleep on it, and a sleep returns at once if the target changed since the same
 * thread's previous sleep (or if that thread has no previous sleep on it).
 */
final class Wakeups {
    private static final Map<String, Wakeups> STORES = new ConcurrentHashMap<>();

    private static final class Signal {
        long generation;
        int waiters;
    }

    private final Map<String, Signal> signals = new HashMap<>();

    /** How long the record of a watched target outlives its last sleep. */
    static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(10);

    /** The changes of one watched target. */
    private static final class Watched {
        long generation;
        int sleepers; // guarded by the Wakeups, like lastUsed
        long lastUsed;
    }

    /** What a watching thread last saw of a target's record. */
    private record Seen(Watched watched, long generation) {}

    /** By {@link #key}; guarded by this. */
    private final Map<String, Watched> watched = new HashMap<>();

    private final ThreadLocal<Map<String, Seen>> seen = ThreadLocal.withInitial(HashMap::new);
    private long lastSweep = System.nanoTime(); // guarded by this

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
        Watched[] watches;
        synchronized (this) {
            all = signals.values().toArray(new Signal[0]);
            watches = watched.values().toArray(new Watched[0]);
        }
        for (Signal s : all) {
            wake(s);
        }
        for (Watched w : watches) {
            wake(w);
        }
    }

    private static void wake(Signal s) {
        synchronized (s) {
            s.generation++;
            s.notifyAll();
        }
    }

    /** Lock {@code name} changed without being freed (a grant, a wait that began or ended): wakes its watches. */
    void changed(String name) {
        List<Watched> woken = new ArrayList<>();
        synchronized (this) {
            Watched lock = watched.get(key(WatchTarget.Kind.LOCK, name));
            if (lock != null) {
                woken.add(lock);
            }
            for (Map.Entry<String, Watched> e : watched.entrySet()) {
                String key = e.getKey();
                if (key.charAt(0) == 'P' && name.regionMatches(0, key, 1, key.length() - 1)) {
                    woken.add(e.getValue());
                }
            }
        }
        woken.forEach(Wakeups::wake);
    }

    /** Register {@code key} was written: wakes its watches. */
    void written(String key) {
        Watched w;
        synchronized (this) {
            w = watched.get(key(WatchTarget.Kind.REGISTER, key));
        }
        if (w != null) {
            wake(w);
        }
    }

    private static void wake(Watched w) {
        synchronized (w) {
            w.generation++;
            w.notifyAll();
        }
    }

    /**
     * Waits up to {@code nanos}, or until what {@code target} watches may have changed since this
     * thread's previous call for it (at once if it already has, or if there was none).
     */
    void awaitWatched(WatchTarget target, long nanos) throws InterruptedException {
        String key = key(target.kind(), target.name());
        Watched w;
        synchronized (this) {
            w = watched.computeIfAbsent(key, k -> new Watched());
            w.sleepers++;
        }
        try {
            Map<String, Seen> mine = seen.get();
            Seen last = mine.get(key);
            synchronized (w) {
                long generation = w.generation;
                if (last != null && last.watched() == w && last.generation() == generation) {
                    long end = System.nanoTime() + nanos;
                    long left = nanos;
                    while (w.generation == generation && left > 0) {
                        TimeUnit.NANOSECONDS.timedWait(w, left);
                        left = end - System.nanoTime();
                    }
                }
                mine.put(key, new Seen(w, w.generation));
            }
        } finally {
            synchronized (this) {
                long now = System.nanoTime();
                w.sleepers--;
                w.lastUsed = now;
                if (now - lastSweep > IDLE_NANOS / 2) {
                    lastSweep = now;
                    watched.values().removeIf(x -> x.sleepers == 0 && now - x.lastUsed > IDLE_NANOS);
                }
            }
        }
    }

    /** How many watched targets have a record (for tests). */
    synchronized int watchedTargets() {
        return watched.size();
    }

    /** A lock, a prefix and a register may be spelled alike: keys tell them apart. */
    private static String key(WatchTarget.Kind kind, String name) {
        return kind.name().charAt(0) + name;
    }
}
