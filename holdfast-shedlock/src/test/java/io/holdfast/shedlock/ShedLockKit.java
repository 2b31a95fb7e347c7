package io.holdfast.shedlock;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.LockInfo;
import java.time.Duration;
import java.util.Optional;
import net.javacrumbs.shedlock.core.ClockProvider;
import net.javacrumbs.shedlock.core.ExtensibleLockProvider;
import net.javacrumbs.shedlock.core.LockConfiguration;
import net.javacrumbs.shedlock.core.SimpleLock;
import net.javacrumbs.shedlock.test.support.AbstractExtensibleLockProviderIntegrationTest;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * ShedLock's own provider kit ({@code shedlock-test-support}: the plain provider's tests and the
 * extensible provider's) run against {@link HoldfastLockProvider}, plus the hung job's story.
 * Each subclass names the backend. "Locked" and "unlocked" are what another client, with a session
 * of its own, sees of the lock's holders.
 */
abstract class ShedLockKit extends AbstractExtensibleLockProviderIntegrationTest {
    /** How long a release may take to commit after its time (a round trip, on a loaded machine). */
    private static final Duration RELEASE_COMMITS_WITHIN = Duration.ofSeconds(2);

    private LockClient jobs;
    private LockClient observer;
    private HoldfastLockProvider provider;

    /** The backend's URI; every test gets fresh clients of it. */
    abstract String uri();

    @BeforeEach
    void open() {
        jobs = LockClient.open(uri(), ClientOptions.defaults());
        observer = LockClient.open(uri(), ClientOptions.defaults());
        provider = new HoldfastLockProvider(jobs);
    }

    @AfterEach
    void close() {
        provider.close();
        jobs.close();
        observer.close();
    }

    @Override
    protected ExtensibleLockProvider getLockProvider() {
        return provider;
    }

    @Override
    protected void assertLocked(String lockName) {
        assertThat(holders(lockName)).as("holders of " + lockName).isOne();
    }

    @Override
    protected void assertUnlocked(String lockName) {
        Awaitility.await(lockName + " unlocked")
                .atMost(RELEASE_COMMITS_WITHIN)
                .pollInterval(Duration.ofMillis(5))
                .until(() -> holders(lockName) == 0);
    }

    private int holders(String lockName) {
        return observer.admin()
                .describe(HoldfastLockProvider.DEFAULT_PREFIX + lockName)
                .map(LockInfo::holders)
                .map(java.util.List::size)
                .orElse(0);
    }

    @Test
    void aHungJobLosesItsLockAtLockAtMostForAndTheNextRunHasALargerToken() throws Exception {
        Optional<SimpleLock> hung = provider.lock(config(Duration.ofMillis(300)));
        assertThat(hung).isNotEmpty();
        long hungToken = HoldfastLockProvider.currentToken().orElseThrow();
        assertThat(provider.lock(config(Duration.ofMillis(300))))
                .as("held until lockAtMostFor")
                .isEmpty();

        try (HoldfastLockProvider otherNode = new HoldfastLockProvider(observer)) {
            Optional<SimpleLock> next = takeWithin(
                    otherNode,
                    Duration.ofMillis(300).plus(RELEASE_COMMITS_WITHIN),
                    "another node takes the lock after lockAtMostFor");
            long nextToken = HoldfastLockProvider.currentToken().orElseThrow();
            assertThat(nextToken).as("the next run's token").isGreaterThan(hungToken);
            next.get().unlock();
        }
        hung.get().unlock(); // the hung job ends at last: nothing left to release
        assertUnlocked(LOCK_NAME1);
    }

    @Test
    void aLockRevokedByAnOperatorIsTakenAfreshBeforeItsLockAtMostFor() {
        Optional<SimpleLock> first = provider.lock(config(Duration.ofMinutes(5)));
        assertThat(first).isNotEmpty();
        long firstToken = HoldfastLockProvider.currentToken().orElseThrow();
        assertThat(provider.lock(config(Duration.ofMinutes(5))))
                .as("held by this provider")
                .isEmpty();

        assertThat(observer.admin().revoke(HoldfastLockProvider.DEFAULT_PREFIX + LOCK_NAME1))
                .isOne();
        Optional<SimpleLock> again = takeWithin(
                provider,
                RELEASE_COMMITS_WITHIN.multipliedBy(5),
                "the job's lock taken again once its holder knows it lost it");
        assertThat(HoldfastLockProvider.currentToken().orElseThrow()).isGreaterThan(firstToken);
        again.get().unlock();
        first.get().unlock(); // the revoked hold: nothing left to release
        assertUnlocked(LOCK_NAME1);
    }

    /**
     * A job's lock kept for its {@code lockAtLeastFor} is taken again by this provider once that
     * time has passed, whether or not the timer that releases it has run yet: ShedLock's clock is
     * moved past it here, and the timer (due in minutes) has not. ShedLock's own {@code
     * shouldLockAtLeastFor} waits 100 ms past the time and asks again, and failed on a loaded CI
     * machine (2026-11-29) when the timer's release had not committed by then.
     */
    @Test
    void aLockKeptForItsLockAtLeastForIsTakenAgainOnceThatTimeHasPassedWhateverItsTimer() {
        java.time.Instant start = ClockProvider.now();
        try {
            ClockProvider.setClock(java.time.Clock.fixed(start, java.time.ZoneOffset.UTC));
            Optional<SimpleLock> first = provider.lock(
                    new LockConfiguration(start, LOCK_NAME1, Duration.ofMinutes(20), Duration.ofMinutes(10)));
            assertThat(first).isNotEmpty();
            long firstToken = HoldfastLockProvider.currentToken().orElseThrow();
            first.get().unlock();
            assertThat(provider.lock(config(Duration.ofMinutes(5))))
                    .as("kept for its lockAtLeastFor")
                    .isEmpty();
            assertLocked(LOCK_NAME1);

            ClockProvider.setClock(java.time.Clock.fixed(start.plus(Duration.ofMinutes(10)), java.time.ZoneOffset.UTC));
            Optional<SimpleLock> again = provider.lock(config(Duration.ofMinutes(5)));
            assertThat(again)
                    .as("taken again once its lockAtLeastFor has passed")
                    .isNotEmpty();
            assertThat(HoldfastLockProvider.currentToken().orElseThrow()).isGreaterThan(firstToken);
            again.get().unlock();
            assertUnlocked(LOCK_NAME1);
        } finally {
            ClockProvider.setClock(java.time.Clock.systemUTC());
        }
    }

    /** The job's lock, tried until {@code within} has passed, on this thread (whose {@code currentToken()} it sets). */
    private Optional<SimpleLock> takeWithin(HoldfastLockProvider node, Duration within, String what) {
        return Awaitility.await(what)
                .atMost(within)
                .pollInterval(Duration.ofMillis(20))
                .pollInSameThread()
                .until(() -> node.lock(config(Duration.ofMinutes(5))), Optional::isPresent);
    }

    private LockConfiguration config(Duration lockAtMostFor) {
        return new LockConfiguration(ClockProvider.now(), LOCK_NAME1, lockAtMostFor, Duration.ZERO);
    }
}
