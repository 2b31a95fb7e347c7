package io.holdfast.jdbc.internal;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Wakes waiters of a lock name early, within one JVM: released locally, or announced by PostgreSQL
 * NOTIFY. Shared by every client of the same store in the JVM. A wake-up that comes between a
 * waiter's failed attempt and its wait is missed; the waiter then finds out at its next poll, so
 * this only shortens waits, it never decides anything.
 */
final class Wakeups {
    private static final Map<String, Wakeups> STORES = new ConcurrentHashMap<>();

    private static final class Signal {
        long generation;
        int waiters;
    }

    private final Map<String, Signal> signals = new HashMap<>();

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

    void signal(String name) {
        Signal s;
        synchronized (this) {
            s = signals.get(name);
        }
        if (s != null) {
            wake(s);
        }
    }

    void signalAll() {
        Signal[] all;
        synchronized (this) {
            all = signals.values().toArray(new Signal[0]);
        }
        for (Signal s : all) {
            wake(s);
        }
    }

    private static void wake(Signal s) {
        synchronized (s) {
            s.generation++;
            s.notifyAll();
        }
    }
}
