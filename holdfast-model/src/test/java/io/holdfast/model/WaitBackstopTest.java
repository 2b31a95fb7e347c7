package io.holdfast.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class WaitBackstopTest {
    @Test
    void theFirstAskIsTheWaitPlusTheTtlAndNeverSoonerThanTwoSecondsAfterIt() {
        assertThat(WaitBackstop.firstAskMillis(3_000, 10_000)).isEqualTo(13_000);
        assertThat(WaitBackstop.firstAskMillis(3_000, 500)).as("a short TTL").isEqualTo(5_000);
        assertThat(WaitBackstop.firstAskMillis(3_000, -1)).as("an unknown TTL").isEqualTo(5_000);
        assertThat(WaitBackstop.firstAskMillis(0, 10_000)).isEqualTo(10_000);
    }

    @Test
    void twoMoreAsksASecondApartThenTheAskerGivesUp() {
        assertThat(WaitBackstop.nextAskMillis(1)).isEqualTo(1_000);
        assertThat(WaitBackstop.nextAskMillis(2)).isEqualTo(1_000);
        assertThat(WaitBackstop.nextAskMillis(3)).isEqualTo(-1);
        assertThatThrownBy(() -> WaitBackstop.nextAskMillis(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
