package io.holdfast.server.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The one line that says how long a member's relay took to drain a backlog. */
class RelayBacklogTest {
    private static long ms(long millis) {
        return TimeUnit.MILLISECONDS.toNanos(millis);
    }

    @Test
    void aRoundAloneIsNoBacklog() {
        RelayBacklog backlog = new RelayBacklog();
        assertThat(backlog.answered("n2", 300, ms(0), ms(40), false)).isNull();
    }

    @Test
    void aDrainIsSaidOnceItsLastRoundIsAnsweredWithItsRoundsSessionsTimeAndSlowestRound() {
        RelayBacklog backlog = new RelayBacklog();
        assertThat(backlog.answered("n2", 8192, ms(1000), ms(1300), true)).isNull();
        assertThat(backlog.answered("n2", 8192, ms(1300), ms(1350), true)).isNull();
        assertThat(backlog.answered("n2", 100, ms(1300), ms(1400), false))
                .isEqualTo("Node n2 relayed a backlog of 16,484 sessions' heartbeats in 3 rounds over 400 ms (the"
                        + " slowest round 300 ms): the last of them waited that long for the leader's verdict");
        assertThat(backlog.answered("n2", 10, ms(2000), ms(2010), false))
                .as("the next drain starts afresh")
                .isNull();
    }
}
