package io.holdfast.server.leadership;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The silence that deposes a leader ({@link LostMajority.Silence}) is counted over the time the
 * leader ran, checked on a clock the test moves: checks every 100 ms, a lease of 900 ms and a
 * step-down after 2,900 ms, as on a default node.
 */
class LostMajoritySilenceTest {
    private static final long LEASE = 900;
    private static final long STEP_DOWN = 2_900;
    private static final long PERIOD = 100;

    /**
     * The failover measured at 100,000 sessions (docs/benchmarks.md, 2026-11-30): n1, just elected,
     * stood still 2.4 s; its follower answered 1.2 s after it ran again; Ratis's figure then said
     * 2,930 ms, and n1 stepped down. Counted over the time it ran, the silence is 1.2 s.
     */
    @Test
    void aLeadersOwnPauseIsNotItsFollowersSilence() {
        LostMajority.Silence silence = new LostMajority.Silence(LEASE);
        long lastAnswer = 0;
        for (long t = 0; t <= 1_000; t += PERIOD) {
            lastAnswer = t; // answered at every check
            assertThat(silence.heard(nanos(t), 0)).isZero();
        }
        // Stood still from 1,000 to 3,400 ms: no check ran, no answer was read.
        long resumed = 3_400;
        for (long t = resumed; t <= resumed + 1_200; t += PERIOD) {
            long ratis = t - lastAnswer; // 2,400 to 3,600 ms: past the step-down's 2,900
            assertThat(silence.heard(nanos(t), ratis))
                    .as("the silence heard at %d ms (Ratis says %d ms)", t, ratis)
                    .isEqualTo(t - resumed)
                    .isLessThan(STEP_DOWN);
        }
        // Its follower answers: Ratis's figure falls back, and so does the silence.
        assertThat(silence.heard(nanos(resumed + 1_300), 20)).isEqualTo(20);
    }

    /** A leader cut off for good, running all along, is judged on Ratis's figure: it steps down on time. */
    @Test
    void aLeaderCutOffWithoutAPauseIsJudgedOnTheFollowersSilenceAlone() {
        LostMajority.Silence silence = new LostMajority.Silence(LEASE);
        long cut = 500;
        long steppedDownAt = -1;
        for (long t = 0; t <= 10_000 && steppedDownAt < 0; t += PERIOD) {
            long ratis = Math.max(0, t - cut);
            long heard = silence.heard(nanos(t), ratis);
            assertThat(heard).isEqualTo(ratis);
            if (heard >= STEP_DOWN) {
                steppedDownAt = t;
            }
        }
        assertThat(steppedDownAt).isEqualTo(cut + STEP_DOWN);
    }

    /** A leader cut off that also stands still steps down a step-down's time after it runs again. */
    @Test
    void aLeaderCutOffThatPausesStepsDownAfterItRunsAgain() {
        LostMajority.Silence silence = new LostMajority.Silence(LEASE);
        long cut = 500;
        for (long t = 0; t <= 2_000; t += PERIOD) {
            silence.heard(nanos(t), Math.max(0, t - cut));
        }
        long resumed = 5_000; // stood still 3 s
        long steppedDownAt = -1;
        for (long t = resumed; t <= 20_000 && steppedDownAt < 0; t += PERIOD) {
            if (silence.heard(nanos(t), t - cut) >= STEP_DOWN) {
                steppedDownAt = t;
            }
        }
        assertThat(steppedDownAt).isEqualTo(resumed + STEP_DOWN);
    }

    /** A gap of the lease or less between checks is a slow check, not a pause; a longer one is. */
    @Test
    void aLateCheckWithinTheLeaseIsNoPause() {
        LostMajority.Silence silence = new LostMajority.Silence(LEASE);
        silence.heard(nanos(0), 0);
        assertThat(silence.heard(nanos(LEASE), 3_000))
                .as("a gap of the lease exactly")
                .isEqualTo(3_000);
        assertThat(silence.heard(nanos(2 * LEASE + 1), 4_000))
                .as("a gap past the lease: it stood still")
                .isZero();
        assertThat(silence.heard(nanos(2 * LEASE + 101), 4_100)).isEqualTo(100);
    }

    /** Not leading (-1) and no majority ever (Long.MAX_VALUE) pass through, pause or not. */
    @Test
    void theMarkersPassThrough() {
        LostMajority.Silence silence = new LostMajority.Silence(LEASE);
        silence.heard(nanos(0), 0);
        assertThat(silence.heard(nanos(5_000), -1)).isEqualTo(-1);
        assertThat(silence.heard(nanos(5_100), Long.MAX_VALUE)).isEqualTo(Long.MAX_VALUE);
    }

    private static long nanos(long millis) {
        return TimeUnit.MILLISECONDS.toNanos(millis) + 1_000_000_000_000L;
    }
}
