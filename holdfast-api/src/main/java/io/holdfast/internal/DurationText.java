package io.holdfast.internal;

import java.time.Duration;
import java.time.temporal.ChronoUnit;

/**
 * Durations in messages, written as people write them and as every Holdfast flag, configuration
 * file and URI reads them: {@code 500ms}, {@code 10s}, {@code 1m30s}, {@code 24h}, never Java's
 * {@code PT0.5S}. The one formatter for durations: the CLI's {@code Durations.format}, the clients'
 * and the recipes' messages all come here.
 *
 * <p>Guarantees: whole terms from hours down to milliseconds, each unit at most once, in the
 * fewest terms ({@code 90s} is {@code 1m30s}); zero is {@code 0s}. Not guaranteed: exactness below
 * a millisecond: a rest under 1 ms is dropped ({@code 1500us} is {@code 1ms}), and a positive
 * duration under 1 ms is {@code <1ms}. Failure story it prevents: {@code holdfast kv put k v --ttl
 * 500ms} said "not PT0.5S", a spelling no flag accepts.
 */
public final class DurationText {
    private static final String[] SYMBOLS = {"h", "m", "s", "ms"};
    private static final Duration[] LENGTHS = {
        Duration.ofHours(1), Duration.ofMinutes(1), Duration.ofSeconds(1), Duration.ofMillis(1)
    };

    private DurationText() {}

    /** {@code d} as people write it; a negative one with a leading {@code -}; null as {@code "null"}. */
    public static String format(Duration d) {
        if (d == null) {
            return "null";
        }
        if (d.isNegative()) {
            return "-" + format(d.negated());
        }
        if (d.isZero()) {
            return "0s";
        }
        Duration rest = d.truncatedTo(ChronoUnit.MILLIS);
        if (rest.isZero()) {
            return "<1ms";
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < SYMBOLS.length; i++) {
            long n = rest.dividedBy(LENGTHS[i]);
            if (n > 0) {
                out.append(n).append(SYMBOLS[i]);
                rest = rest.minus(LENGTHS[i].multipliedBy(n));
            }
        }
        return out.toString();
    }
}
