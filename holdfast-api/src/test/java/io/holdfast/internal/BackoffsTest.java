package io.holdfast.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.RetryPolicy;
import java.time.Duration;
import java.util.List;
import java.util.function.DoubleSupplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The backoffs of the loops that retry without end, each a {@link RetryPolicy} preset. */
class BackoffsTest {
    private static List<Long> millis(RetryPolicy p, int retries, DoubleSupplier random) {
        return IntStream.rangeClosed(1, retries)
                .mapToObj(n -> p.delayBefore(n, random).toMillis())
                .toList();
    }

    @Test
    void aWatchReadsAgainAfter50MsDoublingUpTo2sWithoutJitter() {
        assertThat(millis(Backoffs.watchReconnect(), 8, () -> 0.99))
                .containsExactly(50L, 100L, 200L, 400L, 800L, 1600L, 2000L, 2000L);
    }

    @Test
    void anEventStreamReopensAfter50MsDoublingUpTo1sHalfOfItRandom() {
        assertThat(millis(Backoffs.eventStreamReconnect(), 7, () -> 0.0))
                .containsExactly(50L, 100L, 200L, 400L, 800L, 1000L, 1000L);
        assertThat(millis(Backoffs.eventStreamReconnect(), 7, () -> 1.0))
                .containsExactly(25L, 50L, 100L, 200L, 400L, 500L, 500L);
    }

    @Test
    void aLeaderSearchGoesRoundAgainAfter20MsDoublingUpTo100msHalfOfItRandom() {
        assertThat(millis(Backoffs.leaderSearch(), 5, () -> 0.0)).containsExactly(20L, 40L, 80L, 100L, 100L);
        assertThat(millis(Backoffs.leaderSearch(), 5, () -> 1.0)).containsExactly(10L, 20L, 40L, 50L, 50L);
    }

    @Test
    void aRegisterConflictPausesUpTo1MsDoublingUpTo64msAllOfItRandom() {
        assertThat(millis(Backoffs.registerConflict(), 8, () -> 0.0))
                .containsExactly(1L, 2L, 4L, 8L, 16L, 32L, 64L, 64L);
        assertThat(Backoffs.registerConflict().delayBefore(7, () -> 0.75)).isEqualTo(Duration.ofMillis(16));
    }

    @Test
    void anUnknownOutcomeIsAskedForAfter200MsDoublingUpTo5s() {
        assertThat(millis(Backoffs.untilKnown(), 7, () -> 0.5))
                .containsExactly(200L, 400L, 800L, 1600L, 3200L, 5000L, 5000L);
    }

    @Test
    void aProvidersWaiterPollsAfter2MsDoublingUpToItsMaxPoll() {
        assertThat(millis(Backoffs.lockPoll(Duration.ofMillis(100)), 8, () -> 0.99))
                .containsExactly(2L, 4L, 8L, 16L, 32L, 64L, 100L, 100L);
        assertThat(millis(Backoffs.lockPoll(Duration.ofMillis(500)), 10, () -> 0.5))
                .containsExactly(2L, 4L, 8L, 16L, 32L, 64L, 128L, 256L, 500L, 500L);
        assertThat(millis(Backoffs.lockPoll(Duration.ofMillis(1)), 3, () -> 0.5))
                .containsExactly(1L, 1L, 1L);
    }

    @Test
    void aRedisWaiterPollsAfter20MsDoublingUpTo1sOrAQuarterOfTheExpiry() {
        assertThat(millis(Backoffs.announcedLockPoll(Duration.ofSeconds(30)), 8, () -> 0.99))
                .containsExactly(20L, 40L, 80L, 160L, 320L, 640L, 1000L, 1000L);
        assertThat(millis(Backoffs.announcedLockPoll(Duration.ofMillis(400)), 5, () -> 0.5))
                .containsExactly(20L, 40L, 80L, 100L, 100L);
        assertThat(millis(Backoffs.announcedLockPoll(Duration.ofMillis(40)), 2, () -> 0.5))
                .containsExactly(20L, 20L);
    }

    @Test
    void aLockedCounterFileIsTriedAgainAfter1MsDoublingUpTo20Ms() {
        assertThat(millis(Backoffs.counterFileLock(), 7, () -> 0.99)).containsExactly(1L, 2L, 4L, 8L, 16L, 20L, 20L);
    }

    @Test
    void aFailedVersionReportIsSentAgainAfter1sDoublingUpTo15s() {
        assertThat(millis(Backoffs.versionReport(), 6, () -> 0.99))
                .containsExactly(1000L, 2000L, 4000L, 8000L, 15000L, 15000L);
    }

    @Test
    void theEndlessLoopsDelaysStayBoundedAtTheirLastRetry() {
        assertThat(Backoffs.watchReconnect().delayBefore(64, () -> 0.0)).isEqualTo(Duration.ofSeconds(2));
    }
}
