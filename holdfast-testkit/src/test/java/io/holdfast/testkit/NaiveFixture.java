package io.holdfast.testkit;

import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;

/** Runs the suite against a {@link NaiveStore}: no capabilities, no crashes. */
final class NaiveFixture implements ProviderFixture {
    private final NaiveStore store;

    NaiveFixture(NaiveStore.Flaw flaw) {
        this.store = new NaiveStore(flaw);
    }

    @Override
    public LockClient open(ClientOptions options) {
        return store.open(options);
    }

    @Override
    public Set<Capability> capabilities() {
        return EnumSet.noneOf(Capability.class);
    }

    @Override
    public void crash(LockClient client) {
        throw new UnsupportedOperationException("the naive store has no sessions that could expire");
    }

    @Override
    public Duration shortSessionTtl() {
        return Duration.ofSeconds(1);
    }
}
