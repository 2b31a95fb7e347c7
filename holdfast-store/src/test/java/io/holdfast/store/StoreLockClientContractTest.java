package io.holdfast.store;

import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.testkit.LockProviderContract;
import io.holdfast.testkit.ProviderFixture;
import java.time.Duration;
import java.util.Set;

/**
 * {@link StoreLockClient} over the smallest honest store passes the contract for what that store
 * declares: the shared machinery (leases, watchdog, waiting, async, close, crash) is right before
 * any real store is involved.
 */
class StoreLockClientContractTest extends LockProviderContract {
    private static final SharedMemoryStore STORE = new SharedMemoryStore();

    @Override
    protected ProviderFixture fixture() {
        return new ProviderFixture() {
            @Override
            public LockClient open(ClientOptions options) {
                return new StoreLockClient(STORE.connect(), options);
            }

            @Override
            public Set<Capability> capabilities() {
                // the backend's own, and the multi-locks every StoreLockClient adds
                Set<Capability> declared =
                        java.util.EnumSet.copyOf(STORE.connect().capabilities());
                declared.add(Capability.MULTI_LOCK);
                return declared;
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
    }
}
