package io.holdfast.client;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectNestedMethod;
import static org.junit.platform.testkit.engine.EventConditions.event;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.EventConditions.test;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

import io.holdfast.testkit.LockProviderContract;
import io.holdfast.testkit.ProviderFixture;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineTestKit;

/**
 * The multi-process contract group can fail: a {@code mem:} URI handed to child JVMs gives each
 * process a store of its own, so the processes do not exclude each other, and the group must say
 * so.
 */
class MultiProcessCheckCanFailTest {
    /** A fixture that wrongly claims other processes share its store. */
    static class UnsharedAcrossProcesses extends LockProviderContract {
        @Override
        protected ProviderFixture fixture() {
            return new ClientFixture(() -> "mem:multi-process-check", MemProvider.CAPABILITIES) {
                @Override
                public Optional<String> uri() {
                    return Optional.of("mem:multi-process-check");
                }
            };
        }
    }

    @Test
    void processesThatDoNotShareTheStoreAreCaught() {
        String testName = "processesExcludeEachOtherAndTokensGrowInLockOrder";
        EngineTestKit.engine("junit-jupiter")
                .selectors(selectNestedMethod(
                        List.of(UnsharedAcrossProcesses.class.getName()),
                        LockProviderContract.class.getName() + "$MultiProcess",
                        testName))
                .execute()
                .testEvents()
                .assertThatEvents()
                .haveExactly(1, event(test(testName), finishedWithFailure(message(m -> {
                    System.err.println("MSG: " + m);
                    return true;
                }))));
    }
}
