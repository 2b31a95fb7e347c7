package io.holdfast.redis;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Where waiting threads of one client sleep until a pub/sub message says their name may have been
 * released. A waiter {@linkplain #register registers} before it tries the store and reads the
 * signal's version before each try, so a message that arrives between its failed try and its sleep
 * is not lost: the version has moved and it tries again at once. Messages Redis never sends (a
 * holder's grant expiring) or that pub/sub drops (a reconnect) are covered by the waiter's own
 * polling: every sleep is bounded.
 */
final class Wakeups {
    /** The waiters of one name in this client. */
    static final class Signal {
        private final String name;
        private int users;
        private long version;

        private Signal(String name) {
            this.name = name;
        }

        synchronized long version() {
            return version;
        }

        synchronized void bump() {
            version++;
            notifyAll();
        }

        /**
         * Sleeps until the version differs from {@code seen} or {@code nanos} pass.
         *
         * @return whether it was woken by a change
         */
        synchronized boolean await(long seen, long nanos) throws InterruptedException {
            long end = System.nanoTime() + nanos;
            while (version == seen) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            return true;
        }
    }

    private final ConcurrentHashMap<String, Signal> signals = new ConcurrentHashMap<>();

    /** The signal of {@code name}, kept until every {@link #register} is matched by {@link #unregister}. */
    Signal register(String name) {
        return signals.compute(name, (n, s) -> {
            Signal signal = s == null ? new Signal(n) : s;
            signal.users++;
            return signal;
        });
    }

    void unregister(Signal signal) {
        signals.computeIfPresent(signal.name, (n, s) -> --s.users == 0 ? null : s);
    }

    /** Wakes the waiters of {@code name}, if any. */
    void changed(String name) {
        Signal signal = signals.get(name);
        if (signal != null) {
            signal.bump();
        }
    }

    /** Wakes every waiter (the subscription was re-established: messages may have been missed). */
    void changedAll() {
        signals.values().forEach(Signal::bump);
    }
}
