package io.holdfast.redis;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Where the waiting threads of one client sleep until a pub/sub message wakes them: waits for a
 * lock until a message says that Redis granted their request (the message carries the token); the
 * watches sleep in {@link RedisWatches}. A waiter {@linkplain #register registers} under its owner id before it first asks the
 * store and reads the signal's version before each poll, so a message that arrives between a poll
 * and its sleep is not lost: the version has moved and it looks again at once. What pub/sub never
 * says (a holder's grant expiring) or drops (a reconnect) is covered by the waiter's own polling:
 * every sleep is bounded.
 */
final class Wakeups {
    /** The wait of one owner. */
    static final class Signal {
        private final String name;
        private int users;
        private long version;
        private long token;

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

        /** The token Redis granted this wait with, as announced; 0 until then. */
        synchronized long token() {
            return token;
        }

        synchronized void granted(long token) {
            this.token = token;
            bump();
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

    /** The waits, by owner id. */
    private final ConcurrentHashMap<String, Signal> signals = new ConcurrentHashMap<>();

    /** The signal of {@code name} (an owner id), kept until every {@link #register} is matched by {@link #unregister}. */
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

    /** Wakes the wait of {@code owner}, if it is one of ours, with the token it was granted. */
    void granted(String owner, long token) {
        Signal signal = signals.get(owner);
        if (signal != null) {
            signal.granted(token);
        }
    }

    /** Wakes every waiter (the subscription was re-established: messages may have been missed). */
    void changedAll() {
        signals.values().forEach(Signal::bump);
    }
}
