package io.holdfast.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@link LineThrottle} on a fake ticker: a first line, then one an interval with a count. */
class LineThrottleTest {
    private long now;
    private final LineThrottle throttle = new LineThrottle(() -> now, Duration.ofMinutes(1), 4);

    private void at(long seconds) {
        now = TimeUnit.SECONDS.toNanos(seconds);
    }

    @Test
    void aFirstLineThenOneAMinuteWithTheCountSinceTheLast() {
        at(0);
        LineThrottle.Say first = throttle.occurred("a", 1, "one");
        assertThat(first.first()).isTrue();
        assertThat(first.detail()).isEqualTo("one");
        for (int s = 1; s < 60; s++) {
            at(s);
            assertThat(throttle.occurred("a", 2, "more")).as("second %d", s).isNull();
        }
        at(60);
        LineThrottle.Say again = throttle.occurred("a", 1, null);
        assertThat(again.first()).isFalse();
        assertThat(again.count()).as("59 warnings of 2, and this one").isEqualTo(119);
        assertThat(again.since()).isEqualTo(Duration.ofSeconds(60));
        assertThat(again.detail()).as("the last detail given").isEqualTo("more");
        at(61);
        assertThat(throttle.occurred("a", 1, "x")).isNull();
    }

    @Test
    void eachKeyApartAndAQuietIntervalStartsAnew() {
        at(0);
        assertThat(throttle.occurred("a", 1, "x").first()).isTrue();
        assertThat(throttle.occurred("b", 1, "x").first()).isTrue();
        at(30);
        assertThat(throttle.occurred("a", 1, "x")).isNull();
        at(90);
        assertThat(throttle.occurred("a", 1, "x").first())
                .as("a minute without any")
                .isTrue();
    }

    @Test
    void keysBeyondTheBoundShareOneAndQuietOnesAreForgottenFirst() {
        at(0);
        for (String key : new String[] {"a", "b", "c"}) {
            assertThat(throttle.occurred(key, 1, key).crowded()).isFalse();
        }
        LineThrottle.Say d = throttle.occurred("d", 1, "d");
        assertThat(d.crowded())
                .as("three keys live, the fourth slot is the crowd's")
                .isTrue();
        assertThat(d.first()).isTrue();
        assertThat(throttle.occurred("e", 1, "e"))
                .as("the crowd said it already")
                .isNull();
        at(70);
        assertThat(throttle.occurred("f", 1, "f").crowded())
                .as("the quiet keys are forgotten to make room")
                .isFalse();
    }

    @Test
    void aThrottleNeedsAnIntervalAndRoom() {
        assertThatThrownBy(() -> new LineThrottle(() -> 0, Duration.ZERO, 4))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new LineThrottle(() -> 0, Duration.ofSeconds(1), 1))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
