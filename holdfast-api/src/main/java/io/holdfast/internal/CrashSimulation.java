package io.holdfast.internal;

import io.holdfast.LockClient;
import io.holdfast.UnsupportedFeatureException;

/**
 * A test-only hook: a client that can behave as if its process had died, for tests of what the
 * service and the other clients do then (the testkit's contract suite, the verifier). Applications
 * must never call it: afterwards the client sends nothing more, not even the release of what it
 * holds, so its locks stay held until the service expires its session or leases.
 *
 * <p><b>Guarantees.</b> After {@link #simulateCrash()} returns, no request of the client reaches
 * the service; the client notices on its own that its session or leases are gone, as a client cut
 * off from the service would, and reports its leases lost. Only {@link LockClient#close()} is
 * useful afterwards, and it releases nothing either.
 *
 * <p>Every client of Holdfast's own providers implements it; a provider of someone else's need not.
 */
public interface CrashSimulation {
    /** From now on nothing reaches the service; nothing is released. */
    void simulateCrash();

    /**
     * Simulates the crash of {@code client}.
     *
     * @throws UnsupportedFeatureException if the client cannot simulate a crash
     */
    static void crash(LockClient client) {
        if (!(client instanceof CrashSimulation c)) {
            throw new UnsupportedFeatureException("this client cannot simulate a crash: "
                    + (client == null ? "null" : client.getClass().getName()));
        }
        c.simulateCrash();
    }
}
