package io.holdfast.client;

import io.holdfast.testkit.LockProviderContract;
import io.holdfast.testkit.ProviderFixture;

/** The provider contract suite against the in-process {@code mem:} provider. */
class MemProviderContractTest extends LockProviderContract {
    /** One in-process service for the whole suite; tests keep apart by their names. */
    private static final String URI = "mem:contract-suite";

    private static final ProviderFixture FIXTURE = new ClientFixture(() -> URI, MemProvider.CAPABILITIES);

    @Override
    protected ProviderFixture fixture() {
        return FIXTURE;
    }
}
