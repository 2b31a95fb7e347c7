package io.holdfast.internal;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Locale;

/**
 * Durations as people write them, and the one syntax every Holdfast flag, configuration file and
 * URI reads ({@link #parse}) and every message writes ({@link #format}): {@code 500ms}, {@code 10s},
 * {@code 1m30s}, {@code 24h}, {@code 30d}, never Java's {@code PT0.5S}. The CLI's {@code Durations},
 * the URIs' {@link UriDurations}, the clients' and the recipes' messages all come here.
 *
 * <p>Read: a whole number followed by a unit, {@code ms}, {@code s}, {@code m}, {@code h} or {@code
 * d} (24 hours); terms combined from the largest unit down, each unit at most once ({@code 1d12h},
 * {@code 1m30s}, {@code 2s500ms}); surrounding whitespace ignored, units in either case. Refused,
 * each with its own reason ({@link Malformed#reason()}): a number without a unit, fractions, signs,
 * inner spaces, other units, units out of order or repeated, values past {@link Duration}'s range.
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

    /** A text that is not a duration in the syntax above: the text, and why in a few words. */
    public static final class Malformed extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final transient String input;
        private final transient String reason;

        Malformed(String input, String reason) {
            super("'" + input + "' is not a duration: " + reason);
            this.input = input;
            this.reason = reason;
        }

        /** The text as given. */
        public String input() {
            return input;
        }

        /** Why it is not a duration, e.g. {@code unknown unit 'w'}. */
        public String reason() {
            return reason;
        }
    }

    /** The units a duration is read in, from the largest down. */
    private static final String[] READ_SYMBOLS = {"d", "h", "m", "s", "ms"};

    private static final Duration[] READ_LENGTHS = {
        Duration.ofDays(1), Duration.ofHours(1), Duration.ofMinutes(1), Duration.ofSeconds(1), Duration.ofMillis(1)
    };

    /**
     * Reads {@code text} in the syntax above.
     *
     * @throws Malformed if it is not a duration in that syntax
     */
    public static Duration parse(String text) {
        if (text == null || text.isBlank()) {
            throw new Malformed(text == null ? "" : text, "it is empty");
        }
        String s = text.strip().toLowerCase(Locale.ROOT);
        if (s.chars().anyMatch(Character::isWhitespace)) {
            throw new Malformed(text, "it contains a space");
        }
        Duration total = Duration.ZERO;
        int previous = -1;
        int i = 0;
        while (i < s.length()) {
            int digitsStart = i;
            while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
                i++;
            }
            if (i == digitsStart) {
                throw new Malformed(text, "expected a whole number at '" + s.substring(i) + "'");
            }
            String digits = s.substring(digitsStart, i);
            int unitStart = i;
            while (i < s.length() && s.charAt(i) >= 'a' && s.charAt(i) <= 'z') {
                i++;
            }
            if (i == unitStart) {
                throw new Malformed(
                        text,
                        i == s.length()
                                ? "the number " + digits + " has no unit"
                                : "unexpected '" + s.charAt(i) + "' after " + digits);
            }
            int unit = unitOf(text, s.substring(unitStart, i));
            if (unit <= previous) {
                throw new Malformed(
                        text,
                        "'" + READ_SYMBOLS[unit] + "' after '" + READ_SYMBOLS[previous] + "': go from days down to ms");
            }
            try {
                total = total.plus(READ_LENGTHS[unit].multipliedBy(Long.parseLong(digits)));
            } catch (NumberFormatException | ArithmeticException e) {
                throw new Malformed(text, "it is too large");
            }
            previous = unit;
        }
        return total;
    }

    private static int unitOf(String text, String symbol) {
        for (int u = 0; u < READ_SYMBOLS.length; u++) {
            if (READ_SYMBOLS[u].equals(symbol)) {
                return u;
            }
        }
        throw new Malformed(text, "unknown unit '" + symbol + "'");
    }

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
