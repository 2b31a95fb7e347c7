package io.holdfast.client;

import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.testkit.LockProviderContract;
import io.holdfast.testkit.ProviderFixture;
import java.time.Duration;
import java.util.Set;

/** The provider contract suite against the in-process {@code mem:} provider. */
class MemProviderContractTest extends LockProviderContract {
    /** One in-process service for the whole suite; tests keep apart by their names. */
    private static final String URI = "mem:contract-suite";

    private static final ProviderFixture FIXTURE = new ProviderFixture() {
        @Override
        public LockClient open(ClientOptions options) {
            return LockClient.open(URI, options);
        }

        @Override
        public Set<Capability> capabilities() {
            return MemProvider.CAPABILITIES;
        }

        @Override
        public void crash(LockClient client) {
            io.holdfast.internal.CrashSimulation.crash(client);
        }

        @Override
        public Duration shortSessionTtl() {
            return Duration.ofSeconds(1);
        }
    };

    @Override
    protected ProviderFixture fixture() {
        return FIXTURE;
    }
}
