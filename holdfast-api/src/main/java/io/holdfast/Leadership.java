package io.holdfast;

import java.util.function.Consumer;

/**
 * One leadership won by {@link Election#campaign}: valid until it {@linkplain #resign resigns} or is
 * lost (its session expired, or an operator revoked it). Can be resigned from any thread.
 *
 * <p>The epoch is the fencing token of the lease it stands on ({@link #lease()}): pass that lease
 * to fenced writes so that storage refuses them once this leadership is over.
 */
public interface Leadership extends AutoCloseable {
    /** The election's name. */
    String election();

    /** What this leader proclaimed. */
    String value();

    /** The epoch: higher than every earlier leadership's. */
    long epoch();

    /** The lease this leadership stands on (for fenced writes). */
    Lease lease();

    /** Whether it is still the leadership, as far as this client knows. */
    boolean isValid();

    /** Called once if the leadership is lost (not when it resigns); at once if it is lost already. */
    void onLost(Consumer<? super LockLostException> listener);

    /** Steps down: the next candidate is elected. Idempotent. */
    void resign();

    /** {@link #resign()}. */
    @Override
    void close();
}
