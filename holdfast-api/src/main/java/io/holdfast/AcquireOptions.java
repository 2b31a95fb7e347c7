package io.holdfast;

import java.time.Duration;
import java.util.Objects;

/**
 * How long to wait for a grant and whether the grant has a lease timeout.
 *
 * <ul>
 *   <li>{@code wait}: how long the request may queue. {@link Duration#ZERO} means "try once": the
 *       request is answered at once, granted or busy. At the deadline the wait fails with {@link
 *       LockTimeoutException} and its queue entry is removed; it is never granted afterwards.
 *   <li>{@code leaseTimeout}: optional backstop. A hold that is not renewed within it is taken back
 *       and its holder told. The client renews automatically while the lease is open (a watchdog),
 *       so only a dead or stalled holder loses it. Without one, the hold lasts as long as the
 *       session.
 * </ul>
 *
 * <p>Both are bounded by {@link #MAX_DURATION}; anything negative or larger is refused with {@link
 * InvalidArgumentException}.
 */
public final class AcquireOptions {
    /** The longest wait or lease timeout accepted: one day. */
    public static final Duration MAX_DURATION = Duration.ofDays(1);

    /** The shortest lease timeout accepted: 100 ms; a shorter one cannot be renewed reliably. */
    public static final Duration MIN_LEASE_TIMEOUT = Duration.ofMillis(100);

    private static final AcquireOptions TRY_ONCE = new AcquireOptions(Duration.ZERO, null);

    private final Duration wait;
    private final Duration leaseTimeout;

    private AcquireOptions(Duration wait, Duration leaseTimeout) {
        this.wait = checkWait(wait);
        this.leaseTimeout = leaseTimeout == null ? null : checkLease(leaseTimeout);
    }

    /** Answer at once: granted or busy. */
    public static AcquireOptions tryOnce() {
        return TRY_ONCE;
    }

    /** Wait up to {@code wait} in the queue. */
    public static AcquireOptions waitUpTo(Duration wait) {
        return new AcquireOptions(wait, null);
    }

    /** The same wait, with a lease timeout that the client's watchdog renews while the lease is open. */
    public AcquireOptions withLeaseTimeout(Duration leaseTimeout) {
        return new AcquireOptions(wait, Objects.requireNonNull(leaseTimeout, "leaseTimeout"));
    }

    /** How long the request may wait; zero for a single try. */
    public Duration waitTime() {
        return wait;
    }

    /** The lease timeout, or {@code null} if the hold lasts as long as the session. */
    public Duration leaseTimeout() {
        return leaseTimeout;
    }

    private static Duration checkWait(Duration d) {
        if (d == null) {
            throw new InvalidArgumentException("wait must not be null");
        }
        if (d.isNegative() || d.compareTo(MAX_DURATION) > 0) {
            throw new InvalidArgumentException(
                    "wait must be between 0 and " + io.holdfast.internal.DurationText.format(MAX_DURATION) + ", not "
                            + io.holdfast.internal.DurationText.format(d));
        }
        return d;
    }

    private static Duration checkLease(Duration d) {
        if (d.compareTo(MIN_LEASE_TIMEOUT) < 0 || d.compareTo(MAX_DURATION) > 0) {
            throw new InvalidArgumentException(
                    "lease timeout must be between " + io.holdfast.internal.DurationText.format(MIN_LEASE_TIMEOUT)
                            + " and " + io.holdfast.internal.DurationText.format(MAX_DURATION) + ", not "
                            + io.holdfast.internal.DurationText.format(d));
        }
        return d;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AcquireOptions other
                && wait.equals(other.wait)
                && Objects.equals(leaseTimeout, other.leaseTimeout);
    }

    @Override
    public int hashCode() {
        return Objects.hash(wait, leaseTimeout);
    }

    @Override
    public String toString() {
        return "AcquireOptions[wait=" + wait + ", leaseTimeout=" + leaseTimeout + "]";
    }
}
