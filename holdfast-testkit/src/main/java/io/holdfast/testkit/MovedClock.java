package io.holdfast.testkit;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * A wall clock (UTC) that stands still until a test moves it: for code that stamps or names things
 * by the wall time (backup file names, deadlines shown to people), where {@link FakeTicker} moves
 * the monotonic time. Thread-safe: {@link #now} is volatile.
 */
public final class MovedClock extends Clock {
    /** The instant {@link #instant()} answers; a test sets it. */
    public volatile Instant now;

    public MovedClock(Instant now) {
        this.now = now;
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }

    @Override
    public Instant instant() {
        return now;
    }
}
