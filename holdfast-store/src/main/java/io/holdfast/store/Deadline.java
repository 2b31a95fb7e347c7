package io.holdfast.store;

import io.holdfast.Ticker;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/** The end of a wait, on the client's monotonic {@link Ticker}, never the wall clock. */
public final class Deadline {
    private static final BooleanSupplier NEVER = () -> false;

    private final Ticker ticker;
    private final long atNanos;
    private final BooleanSupplier cancelled;

    private Deadline(Ticker ticker, long atNanos, BooleanSupplier cancelled) {
        this.ticker = ticker;
        this.atNanos = atNanos;
        this.cancelled = cancelled;
    }

    /** The deadline {@code wait} from now. */
    public static Deadline after(Ticker ticker, Duration wait) {
        return new Deadline(ticker, ticker.nanos() + Math.max(0, wait.toNanos()), NEVER);
    }

    /**
     * The same deadline, also ended early once {@code cancelled} says so (the client closed, the
     * caller cancelled its future). Waiting code checks {@link #cancelled()} between attempts, so a
     * wait ends even when a driver swallowed the thread's interrupt.
     */
    public Deadline cancelledWhen(BooleanSupplier cancelled) {
        return new Deadline(ticker, atNanos, cancelled);
    }

    /** Whether the wait was called off before its deadline. */
    public boolean cancelled() {
        return cancelled.getAsBoolean();
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
