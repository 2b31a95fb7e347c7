package io.holdfast.store;

import io.holdfast.Ticker;
import java.time.Duration;

/** The end of a wait, on the client's monotonic {@link Ticker}, never the wall clock. */
public final class Deadline {
    private final Ticker ticker;
    private final long atNanos;

    private Deadline(Ticker ticker, long atNanos) {
        this.ticker = ticker;
        this.atNanos = atNanos;
    }

    /** The deadline {@code wait} from now. */
    public static Deadline after(Ticker ticker, Duration wait) {
        return new Deadline(ticker, ticker.nanos() + Math.max(0, wait.toNanos()));
    }

    /** Nanoseconds left, zero or less once it has passed. */
    public long remainingNanos() {
        return atNanos - ticker.nanos();
    }

    /** Whether it has passed. */
    public boolean passed() {
        return remainingNanos() <= 0;
    }

    /** The ticker it is measured on. */
    public Ticker ticker() {
        return ticker;
    }
}
