package io.holdfast;

/**
 * A monotonic source of nanoseconds, injected wherever Holdfast measures leases and timeouts, so
 * that tests can move time and a wall-clock jump can never break a lease. Only differences between
 * two readings of the same ticker mean anything.
 */
@FunctionalInterface
public interface Ticker {
    /** Nanoseconds since an arbitrary origin; never goes backwards. */
    long nanos();

    /** The JVM's monotonic clock, {@link System#nanoTime()}. */
    static Ticker system() {
        return System::nanoTime;
    }
}
