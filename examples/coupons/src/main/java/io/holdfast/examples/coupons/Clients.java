package io.holdfast.examples.coupons;

import io.holdfast.LockClient;
import java.util.function.Supplier;

/**
 * The instance's one {@link LockClient}, reopened when its session has expired: a client whose session
 * expired cannot act again (after a SIGSTOP longer than the TTL, for example), so the instance opens a new
 * one and carries on.
 */
final class Clients implements AutoCloseable {
    private final Supplier<LockClient> opener;
    private LockClient current;
    private int reopened;

    Clients(Supplier<LockClient> opener) {
        this.opener = opener;
        this.current = opener.get();
    }

    synchronized LockClient get() {
        if (current == null) {
            current = opener.get();
            reopened++;
        }
        return current;
    }

    /** The session of {@code seen} expired: the next {@link #get()} opens a new client. */
    synchronized void expired(LockClient seen) {
        if (current == seen && current != null) {
            closeQuietly(current);
            current = null;
        }
    }

    synchronized int reopened() {
        return reopened;
    }

    @Override
    public synchronized void close() {
        if (current != null) {
            closeQuietly(current);
            current = null;
        }
    }

    private static void closeQuietly(LockClient client) {
        try {
            client.close();
        } catch (RuntimeException ignored) {
            // its session is gone already; nothing is left to release
        }
    }
}
