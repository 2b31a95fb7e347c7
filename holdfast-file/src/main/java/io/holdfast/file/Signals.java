package io.holdfast.file;

import java.util.concurrent.TimeUnit;

/**
 * Wakes this JVM's waiters when a lock of the directory is released here, and its register
 * watches when a register is written here ({@link #register}). Names share a fixed set of stripes,
 * so a wake-up may be for another name (spurious, which waiters tolerate); each stripe counts its
 * signals so that a waiter that read the count before its last attempt never misses one. Waiters
 * and watches in other processes are not reached: they poll.
 */
final class Signals {
    private static final int STRIPES = 64;

    private final Stripe[] stripes = new Stripe[STRIPES];

    Signals() {
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new Stripe();
        }
    }

    /** What register {@code key} is signalled as: no lock name has a control character. */
    static String register(String key) {
        return "\u0001" + key;
    }

    /** The signal count of {@code name}'s stripe, to pass to {@link #await} after an attempt. */
    long version(String name) {
        return stripe(name).version();
    }

    /** Wakes the waiters of {@code name} (and of the names that share its stripe). */
    void signal(String name) {
        stripe(name).signal();
    }

    /**
     * Waits until {@code name}'s stripe is signalled after {@code seen} was read, or {@code maxNanos}
     * pass.
     */
    void await(String name, long seen, long maxNanos) throws InterruptedException {
        stripe(name).await(seen, maxNanos);
    }

    private Stripe stripe(String name) {
        return stripes[stripeOf(name)];
    }

    /** Which stripe {@code name} shares (for tests that need two names apart). */
    static int stripeOf(String name) {
        return Math.floorMod(name.hashCode(), STRIPES);
    }

    private static final class Stripe {
        private long version;

        synchronized long version() {
            return version;
        }

        synchronized void signal() {
            version++;
            notifyAll();
        }

        synchronized void await(long seen, long maxNanos) throws InterruptedException {
            long end = System.nanoTime() + maxNanos;
            while (version == seen) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }
    }
}
