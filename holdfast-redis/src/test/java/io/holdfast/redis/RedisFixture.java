package io.holdfast.redis;

import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.testkit.ProviderFixture;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The contract suite's view of a Redis the test runs: its URI, what the provider declares there,
 * and how to stop and start it for the outage tests.
 */
final class RedisFixture implements ProviderFixture {
    /** What the provider declares over one Redis. */
    static final Set<Capability> ONE_REDIS = Set.copyOf(EnumSet.of(
            Capability.FAIR_QUEUE,
            Capability.INSPECT,
            Capability.READ_WRITE,
            Capability.SEMAPHORE,
            Capability.LEASE_TIMEOUT,
            Capability.CHECK_FENCE,
            Capability.REVOKE,
            Capability.MULTI_LOCK,
            Capability.REGISTERS,
            Capability.FENCED_REGISTERS,
            Capability.KEYS,
            Capability.SESSION_KEYS,
            Capability.KEY_TTL,
            Capability.TRANSACTIONS));

    private final Supplier<String> uri;
    private final Set<Capability> capabilities;
    private final Runnable stop;
    private final Runnable start;

    RedisFixture(Supplier<String> uri, Set<Capability> capabilities, Runnable stop, Runnable start) {
        this.uri = uri;
        this.capabilities = capabilities;
        this.stop = stop;
        this.start = start;
    }

    @Override
    public LockClient open(ClientOptions options) {
        return LockClient.open(uri.get(), options);
    }

    @Override
    public Set<Capability> capabilities() {
        return EnumSet.copyOf(capabilities);
    }

    @Override
    public void crash(LockClient client) {
        io.holdfast.internal.CrashSimulation.crash(client);
    }

    @Override
    public Duration shortSessionTtl() {
        return Duration.ofSeconds(2);
    }

    @Override
    public Optional<String> uri() {
        return Optional.of(uri.get());
    }

    @Override
    public void stopStore() {
        stop.run();
    }

    @Override
    public void startStore() {
        start.run();
    }
}
