package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.Lease;
import java.time.Duration;

/**
 * Polls {@link Lease#isValid()} until it reads false, and says how late the lease was seen valid.
 *
 * <p><b>What it guarantees.</b> {@link Seen#lastValidNanos()} is a {@link System#nanoTime()}
 * reading taken just <em>before</em> a call that answered true: the lease was valid at that moment
 * or later. A poller that the machine does not schedule for a while can only make that reading
 * earlier than the lease's real last valid moment, so a check that it precedes some deadline never
 * fails because the machine was busy; it fails when the lease did read valid past the deadline.
 *
 * <p><b>What it does not.</b> It does not catch a lease that reads valid past the deadline while the
 * poller is not running: on a busy machine a violation can go unseen in one run, never reported
 * where there was none.
 *
 * <p><b>A failure story.</b> The moment measured after the loop ends is late by however long the
 * poller waited for a core: in a CI run with other modules' tests beside it, a check on that moment
 * put a ZooKeeper lease's turning invalid 80 ms after the server's earliest expiry, where the
 * lease's own limit lies at least 200 ms before it. A check on {@link Seen#lastValidNanos()} does
 * not depend on that wait.
 */
public final class ValidityWatch {
    private ValidityWatch() {}

    /** What the poller saw: the last moment it found the lease valid, and when it found it not. */
    public record Seen(long lastValidNanos, long firstInvalidNanos) {}

    /** Polls until the lease reads invalid; fails if it still reads valid after {@code atMost}. */
    public static Seen untilInvalid(Lease lease, Duration atMost) {
        long deadline = System.nanoTime() + atMost.toNanos();
        long lastValid = System.nanoTime();
        while (true) {
            long before = System.nanoTime();
            if (!lease.isValid()) {
                return new Seen(lastValid, System.nanoTime());
            }
            lastValid = before;
            assertThat(before - deadline)
                    .as("the lease still reads valid after " + atMost)
                    .isNegative();
            Thread.onSpinWait();
        }
    }
}
