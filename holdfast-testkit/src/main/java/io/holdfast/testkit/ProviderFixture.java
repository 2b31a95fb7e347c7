package io.holdfast.testkit;

import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;

/**
 * What {@link LockProviderContract} needs from a provider: a way to open clients against a store
 * that is already running, the capabilities the provider promises, and a way to make a client die
 * without saying goodbye.
 *
 * <p>A fixture is asked for clients many times per test and must hand out a new session each
 * time. The store it talks to may be shared by every test of the suite: the suite gives every test
 * its own lock names and closes every client it opened.
 */
public interface ProviderFixture {
    /**
     * Opens a new client, with a new session, against the provider's store.
     *
     * @param options the options the test wants (client name, session TTL, lock-delay); a fixture
     *     may add provider-specific settings through its URI but must honour these
     */
    LockClient open(ClientOptions options);

    /**
     * The capabilities the provider promises. The suite runs the tests of these and checks that
     * every client reports exactly this set; the tests of the others are reported as skipped.
     */
    Set<Capability> capabilities();

    /**
     * Simulates the death of the client's process: its heartbeats, lease renewals and every further
     * message to the store stop at once, and nothing is released. The store must find out on its
     * own (session TTL, lease timeout). The client object stays usable only for {@code close()},
     * which the suite calls afterwards and which must then not release anything either.
     *
     * @throws UnsupportedOperationException if the provider cannot simulate this; the tests that
     *     need it are then reported as skipped, with the exception's message as the reason
     */
    void crash(LockClient client);

    /**
     * Whether a crashed client's locks come back the moment it dies, because the store itself frees
     * a dead process's locks (OS file locks: the kernel drops them with the process's descriptors),
     * rather than after a session TTL or lease expiry. The crash tests then expect the next waiter to
     * be granted promptly instead of not before half a TTL. False unless the provider says so.
     */
    default boolean crashFreesLocksAtOnce() {
        return false;
    }

    /**
     * The shortest session TTL the provider supports well: the suite's expiry tests open their
     * clients with it and wait a few multiples of it. At least one second ({@link ClientOptions}
     * refuses less); one second for an in-process provider.
     */
    Duration shortSessionTtl();

    /**
     * The URI with which another process on this machine reaches the same store, through {@link
     * LockClient#open(String, ClientOptions)} on the same class path. The multi-process tests run
     * child JVMs with it; without one they are skipped.
     */
    default Optional<String> uri() {
        return Optional.empty();
    }

    /**
     * Stops the store (every node of it) so that it cannot be reached, keeping its data. Used by
     * the outage tests together with {@link #startStore()}; the suite always starts it again.
     *
     * @throws UnsupportedOperationException if the fixture cannot stop its store; the outage tests
     *     are then skipped with the message as the reason
     */
    default void stopStore() {
        throw new UnsupportedOperationException("the fixture cannot stop its store");
    }

    /**
     * Starts the store stopped by {@link #stopStore()} again, on the same address and with its data
     * (as a durable store comes back after a restart), and returns once it accepts connections.
     */
    default void startStore() {
        throw new UnsupportedOperationException("the fixture cannot start its store");
    }
}
