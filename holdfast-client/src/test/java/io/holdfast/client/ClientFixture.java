package io.holdfast.client;

import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.testkit.ProviderFixture;
import java.time.Duration;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The contract suite's fixture for this module's clients ({@code mem:} and {@code holdfast://}):
 * opens the URI, crashes a client with the test hook, and runs the short-session tests with a 1 s
 * TTL.
 */
class ClientFixture implements ProviderFixture {
    private final Supplier<String> uri;
    private final Set<Capability> capabilities;

    /** @param uri the URI to open, asked at each open (a server started later fills it in) */
    ClientFixture(Supplier<String> uri, Set<Capability> capabilities) {
        this.uri = uri;
        this.capabilities = capabilities;
    }

    @Override
    public LockClient open(ClientOptions options) {
        return LockClient.open(uri.get(), options);
    }

    @Override
    public Set<Capability> capabilities() {
        return capabilities;
    }

    @Override
    public void crash(LockClient client) {
        io.holdfast.internal.CrashSimulation.crash(client);
    }

    @Override
    public Duration shortSessionTtl() {
        return Duration.ofSeconds(1);
    }
}
