package io.holdfast.testkit;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectNestedMethod;
import static org.junit.platform.testkit.engine.EventConditions.abortedWithReason;
import static org.junit.platform.testkit.engine.EventConditions.event;
import static org.junit.platform.testkit.engine.EventConditions.finishedSuccessfully;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.EventConditions.test;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.instanceOf;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

/**
 * The suite can fail: run against deliberately broken stores, the tests that guard the broken
 * property fail with a message that names it, and a test whose capability is not declared is
 * reported as skipped with the reason, not as passed.
 */
class SuiteCatchesBrokenProvidersTest {
    /** Grants every request, held or not. */
    static class NoExclusion extends LockProviderContract {
        @Override
        protected ProviderFixture fixture() {
            return new NaiveFixture(NaiveStore.Flaw.NO_EXCLUSION);
        }
    }

    /** Gives every grant the same fencing token. */
    static class RepeatedTokens extends LockProviderContract {
        @Override
        protected ProviderFixture fixture() {
            return new NaiveFixture(NaiveStore.Flaw.REPEATED_TOKENS);
        }
    }

    /** Forgets its leases when a client closes. */
    static class CloseKeepsLocks extends LockProviderContract {
        @Override
        protected ProviderFixture fixture() {
            return new NaiveFixture(NaiveStore.Flaw.CLOSE_KEEPS_LOCKS);
        }
    }

    /** A correct naive store, for the skip reporting. */
    static class Correct extends LockProviderContract {
        @Override
        protected ProviderFixture fixture() {
            return new NaiveFixture(NaiveStore.Flaw.NONE);
        }
    }

    private static Events run(Class<? extends LockProviderContract> suite, Class<?> group, String test) {
        return EngineTestKit.engine("junit-jupiter")
                .selectors(selectNestedMethod(List.of(suite), group, test))
                .execute()
                .testEvents();
    }

    @Test
    void mutualExclusionFailsForAStoreThatGrantsEveryRequest() {
        run(NoExclusion.class, LockProviderContract.ExclusiveLocks.class, "mutualExclusionUnderContention")
                .assertThatEvents()
                .haveExactly(
                        1,
                        event(
                                test("mutualExclusionUnderContention"),
                                finishedWithFailure(
                                        instanceOf(AssertionError.class),
                                        message(m -> m.contains("the most holders inside the critical section")))));
    }

    @Test
    void tryAcquireFailsForAStoreThatGrantsEveryRequest() {
        run(NoExclusion.class, LockProviderContract.ExclusiveLocks.class, "tryAcquireOfAHeldLockIsEmpty")
                .assertThatEvents()
                .haveExactly(1, event(test("tryAcquireOfAHeldLockIsEmpty"), finishedWithFailure()));
    }

    @Test
    void fencingFailsForAStoreThatRepeatsTokens() {
        run(
                        RepeatedTokens.class,
                        LockProviderContract.ExclusiveLocks.class,
                        "fencingTokensGrowWithEveryGrantAcrossNamesAndClients")
                .assertThatEvents()
                .haveExactly(
                        1,
                        event(
                                test("fencingTokensGrowWithEveryGrantAcrossNamesAndClients"),
                                finishedWithFailure(message(m -> m.contains("fencing tokens in grant order")))));
        run(RepeatedTokens.class, LockProviderContract.ExclusiveLocks.class, "mutualExclusionUnderContention")
                .assertThatEvents()
                .haveExactly(
                        1,
                        event(
                                test("mutualExclusionUnderContention"),
                                finishedWithFailure(message(m -> m.contains("fencing token was not above")))));
    }

    @Test
    void closeFailsForAStoreThatKeepsAClosedClientsLocks() {
        run(CloseKeepsLocks.class, LockProviderContract.Sessions.class, "closeReleasesEverythingAtOnce")
                .assertThatEvents()
                .haveExactly(
                        1,
                        event(
                                test("closeReleasesEverythingAtOnce"),
                                finishedWithFailure(message(m -> m.contains("leases of a closed client")))));
    }

    @Test
    void theSameTestsPassForACorrectStore() {
        for (String test : List.of("mutualExclusionUnderContention", "tryAcquireOfAHeldLockIsEmpty")) {
            run(Correct.class, LockProviderContract.ExclusiveLocks.class, test)
                    .assertThatEvents()
                    .haveExactly(1, event(test(test), finishedSuccessfully()));
        }
    }

    @Test
    void aTestOfAnUndeclaredCapabilityIsSkippedWithTheReason() {
        run(Correct.class, LockProviderContract.FairQueue.class, "waitersAreGrantedInArrivalOrder")
                .assertThatEvents()
                .haveExactly(
                        1,
                        event(
                                test("waitersAreGrantedInArrivalOrder"),
                                abortedWithReason(
                                        message(m -> m.contains("the provider does not declare FAIR_QUEUE")))));
    }

    @Test
    void aCrashTestIsSkippedWithTheFixturesReason() {
        run(Correct.class, LockProviderContract.Sessions.class, "aCrashedClientIsToldItsLeaseWasLost")
                .assertThatEvents()
                .haveExactly(
                        1,
                        event(
                                test("aCrashedClientIsToldItsLeaseWasLost"),
                                abortedWithReason(message(m -> m.contains("cannot simulate a crashed client")))));
    }
}
