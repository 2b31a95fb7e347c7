package io.holdfast.testkit;

/**
 * The suite against a naive but correct store with no capabilities: every test it runs must pass,
 * and every capability test must be skipped. This is how a provider's contract test looks.
 */
class NaiveProviderContractTest extends LockProviderContract {
    private static final NaiveFixture FIXTURE = new NaiveFixture(NaiveStore.Flaw.NONE);

    @Override
    protected ProviderFixture fixture() {
        return FIXTURE;
    }
}
