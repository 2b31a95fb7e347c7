package io.holdfast;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.function.DoubleSupplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The backoffs of the loops that retry without end, each a {@link RetryPolicy} preset. */
class RetryPolicyPresetsTest {
    private static List<Long> millis(RetryPolicy p, int retries, DoubleSupplier random) {
        return IntStream.rangeClosed(1, retries)
                .mapToObj(n -> p.delayBefore(n, random).toMillis())
                .toList();
    }

    @Test
    void aWatchReadsAgainAfter50MsDoublingUpTo2sWithoutJitter() {
        assertThat(millis(RetryPolicy.watchReconnect(), 8, () -> 0.99))
                .containsExactly(50L, 100L, 200L, 400L, 800L, 1600L, 2000L, 2000L);
    }

    @Test
    void anEventStreamReopensAfter50MsDoublingUpTo1sHalfOfItRandom() {
        assertThat(millis(RetryPolicy.eventStreamReconnect(), 7, () -> 0.0))
                .containsExactly(50L, 100L, 200L, 400L, 800L, 1000L, 1000L);
        assertThat(millis(RetryPolicy.eventStreamReconnect(), 7, () -> 1.0))
                .containsExactly(25L, 50L, 100L, 200L, 400L, 500L, 500L);
    }

    @Test
    void aRegisterConflictPausesUpTo1MsDoublingUpTo64msAllOfItRandom() {
        assertThat(millis(RetryPolicy.registerConflict(), 8, () -> 0.0))
                .containsExactly(1L, 2L, 4L, 8L, 16L, 32L, 64L, 64L);
        assertThat(RetryPolicy.registerConflict().delayBefore(7, () -> 0.75)).isEqualTo(Duration.ofMillis(16));
    }

    @Test
    void anUnknownOutcomeIsAskedForAfter200MsDoublingUpTo5s() {
        assertThat(millis(RetryPolicy.untilKnown(), 7, () -> 0.5))
                .containsExactly(200L, 400L, 800L, 1600L, 3200L, 5000L, 5000L);
    }

    @Test
    void theEndlessLoopsDelaysStayBoundedAtTheirLastRetry() {
        assertThat(RetryPolicy.watchReconnect().delayBefore(64, () -> 0.0)).isEqualTo(Duration.ofSeconds(2));
    }
}
