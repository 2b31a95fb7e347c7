package io.holdfast.testkit;

import io.holdfast.Ticker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Ticker} that only moves when a test moves it: give it to {@link
 * io.holdfast.ClientOptions.Builder#ticker} and, for timers, to a {@link ManualScheduler}.
 *
 * <p>It never goes backwards: {@link #advance} refuses a negative step. It starts at an arbitrary
 * large value, so code that wrongly treats readings as absolute (or as never zero) shows it.
 */
public final class FakeTicker implements Ticker {
    private final AtomicLong nanos = new AtomicLong(1_000_000_000_000L);

    @Override
    public long nanos() {
        return nanos.get();
    }

    /** Moves time forward by {@code step}. */
    public void advance(Duration step) {
        if (step.isNegative()) {
            throw new IllegalArgumentException("time never goes back: " + step);
        }
        nanos.addAndGet(step.toNanos());
    }

    /** Moves time forward to {@code at}, if it is later than now. */
    void advanceTo(long at) {
        nanos.accumulateAndGet(at, Math::max);
    }
}
