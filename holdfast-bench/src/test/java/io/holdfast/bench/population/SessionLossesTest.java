package io.holdfast.bench.population;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/** A crowd's lost sessions are told with their causes ({@link SessionLosses}). */
class SessionLossesTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final SessionLosses losses = new SessionLosses(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            Clock.fixed(Instant.parse("2026-12-06T16:58:22.125Z"), ZoneOffset.UTC));

    private String log() {
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void theFirstLossesAreLoggedEachWithItsTimeAndCauseAndAllAreCountedByCause() {
        losses.lost("s1", "no heartbeat was acknowledged for a whole TTL (10s)");
        losses.lost("s2", "the service expired it");
        losses.lost("s3", "no heartbeat was acknowledged for a whole TTL (10s)");

        assertThat(log())
                .contains("16:58:22.125 population: session s1 lost (1 so far): no heartbeat was acknowledged"
                        + " for a whole TTL (10s)")
                .contains("session s2 lost (2 so far): the service expired it")
                .contains("session s3 lost (3 so far)");
        assertThat(losses.count()).isEqualTo(3);
        assertThat(losses.summary())
                .isEqualTo("2 × no heartbeat was acknowledged for a whole TTL (10s); 1 × the service expired it");
    }

    @Test
    void pastTheFirstLossesOnlyTheCountsGrow() {
        for (int i = 1; i <= SessionLosses.EACH_LOGGED + 30; i++) {
            losses.lost("s" + i, "cause");
        }
        assertThat(log().lines().filter(l -> l.contains(" lost ("))).hasSize(SessionLosses.EACH_LOGGED);
        assertThat(log()).contains("more sessions lost; from now on only counted by cause");
        assertThat(log()).doesNotContain("session s21 lost");
        assertThat(losses.summary()).isEqualTo((SessionLosses.EACH_LOGGED + 30) + " × cause");
    }

    @Test
    void causesPastTheMostToldApartAreCountedTogether() {
        for (int i = 0; i < SessionLosses.MOST_CAUSES + 3; i++) {
            losses.lost("s" + i, "cause " + i);
        }
        losses.lost("again", "cause 0");
        losses.lost("blank", " ");

        assertThat(losses.summary())
                .startsWith("4 × (other causes); 2 × cause 0; ")
                .doesNotContain("cause " + SessionLosses.MOST_CAUSES)
                .doesNotContain("(no cause given)");
        assertThat(losses.count()).isEqualTo(SessionLosses.MOST_CAUSES + 5L);
    }
}
