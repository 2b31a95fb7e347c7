package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {
    @ParameterizedTest
    @CsvSource({
        "250ms, PT0.25S",
        "30s, PT30S",
        "2m, PT2M",
        "1h, PT1H",
        "0s, PT0S",
        "0ms, PT0S",
        "1m30s, PT1M30S",
        "1h2m3s4ms, PT1H2M3.004S",
        "2s500ms, PT2.5S",
        "90s, PT1M30S",
        "'  45s ', PT45S",
        "10S, PT10S",
        "30d, PT720H",
        "1d12h, PT36H",
        "007s, PT7S",
    })
    void parsesTheDocumentedForms(String text, String expected) {
        assertThat(Durations.parse(text)).isEqualTo(Duration.parse(expected));
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "30      | has no unit",
                "1.5s    | unexpected '.' after 1",
                "-5s     | expected a whole number at '-5s'",
                "+5s     | expected a whole number at '+5s'",
                "5w      | unknown unit 'w'",
                "12h1d   | 'd' after 'h'",
                "5us     | unknown unit 'us'",
                "s       | expected a whole number at 's'",
                "1 s     | contains a space",
                "30s2m   | 'm' after 's'",
                "1s1s    | 's' after 's'",
                "1m 30s  | contains a space",
                "99999999999999999999h | too large",
                "9223372036854775807h  | too large",
                "١s      | expected a whole number",
            })
    void rejectsWithAReason(String text, String reason) {
        assertThatThrownBy(() -> Durations.parse(text))
                .isInstanceOf(InvalidDurationException.class)
                .hasMessageContaining(reason)
                .hasMessageContaining("250ms")
                .satisfies(
                        e -> assertThat(((InvalidDurationException) e).input()).isEqualTo(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   "})
    void rejectsEmpty(String text) {
        assertThatThrownBy(() -> Durations.parse(text))
                .isInstanceOf(InvalidDurationException.class)
                .hasMessageContaining("empty");
    }

    @ParameterizedTest
    @CsvSource({"PT0S, 0s", "PT0.25S, 250ms", "PT30S, 30s", "PT1M30S, 1m30s", "PT1H, 1h", "PT25H0.001S, 25h1ms"})
    void formatsInTheFewestTermsAndRoundTrips(String iso, String text) {
        Duration d = Duration.parse(iso);
        assertThat(Durations.format(d)).isEqualTo(text);
        assertThat(Durations.parse(Durations.format(d))).isEqualTo(d);
    }

    @ParameterizedTest
    @CsvSource({"PT0.0005S, <1ms", "PT0.0015S, 1ms", "PT-1.5S, -1s500ms", "PT10S, 10s", "PT0.5S, 500ms"})
    void messagesWriteEveryDurationAsPeopleDo(String iso, String text) {
        assertThat(io.holdfast.internal.DurationText.format(Duration.parse(iso)))
                .isEqualTo(text);
    }

    @org.junit.jupiter.api.Test
    void formatRefusesNegative() {
        assertThatThrownBy(() -> Durations.format(Duration.ofSeconds(-1))).isInstanceOf(IllegalArgumentException.class);
    }
}
