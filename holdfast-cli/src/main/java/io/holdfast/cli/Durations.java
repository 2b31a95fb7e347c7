package io.holdfast.cli;

import java.time.Duration;
import java.util.Locale;

/**
 * Reads and writes durations the way Holdfast's flags, configuration and URIs spell them: a whole number
 * followed by a unit, {@code ms}, {@code s}, {@code m}, {@code h} or {@code d} (24 hours), for example
 * {@code 250ms}, {@code 30s}, {@code 2m}, {@code 1h}, {@code 30d}. Terms may be combined from the largest unit
 * down, each unit at most once: {@code 1d12h}, {@code 1h30m}, {@code 1m30s}, {@code 2s500ms}.
 *
 * <p>Not accepted, each with its own message: a number without a unit, fractions ({@code 1.5s}), signs,
 * inner spaces, other units ({@code w}, {@code us}), units out of order or repeated, and values past
 * {@link Duration}'s range. Surrounding whitespace is ignored.
 */
public final class Durations {
    private enum Unit {
        DAYS("d", Duration.ofDays(1)),
        HOURS("h", Duration.ofHours(1)),
        MINUTES("m", Duration.ofMinutes(1)),
        SECONDS("s", Duration.ofSeconds(1)),
        MILLIS("ms", Duration.ofMillis(1));

        final String symbol;
        final Duration length;

        Unit(String symbol, Duration length) {
            this.symbol = symbol;
            this.length = length;
        }
    }

    private Durations() {}

    /**
     * Parses {@code text}.
     *
     * @throws InvalidDurationException if it is not a duration in the syntax above
     */
    public static Duration parse(String text) {
        if (text == null || text.isBlank()) {
            throw new InvalidDurationException(text == null ? "" : text, "it is empty");
        }
        String s = text.strip().toLowerCase(Locale.ROOT);
        if (s.chars().anyMatch(Character::isWhitespace)) {
            throw new InvalidDurationException(text, "it contains a space");
        }
        Duration total = Duration.ZERO;
        Unit previous = null;
        int i = 0;
        while (i < s.length()) {
            int digitsStart = i;
            while (i < s.length() && isAsciiDigit(s.charAt(i))) {
                i++;
            }
            if (i == digitsStart) {
                throw new InvalidDurationException(text, "expected a whole number at '" + s.substring(i) + "'");
            }
            String digits = s.substring(digitsStart, i);
            int unitStart = i;
            while (i < s.length() && isAsciiLetter(s.charAt(i))) {
                i++;
            }
            if (i == unitStart) {
                String reason = i == s.length()
                        ? "the number " + digits + " has no unit"
                        : "unexpected '" + s.charAt(i) + "' after " + digits;
                throw new InvalidDurationException(text, reason);
            }
            Unit unit = unitOf(text, s.substring(unitStart, i));
            if (previous != null && unit.ordinal() <= previous.ordinal()) {
                throw new InvalidDurationException(
                        text, "'" + unit.symbol + "' after '" + previous.symbol + "': go from days down to ms");
            }
            total = add(text, total, digits, unit);
            previous = unit;
        }
        return total;
    }

    /**
     * Writes {@code d} in the syntax that {@link #parse(String)} reads, in the fewest terms: {@code 90s} is "1m30s"
     * ({@link io.holdfast.internal.DurationText}, the one formatter of durations in messages).
     */
    public static String format(Duration d) {
        if (d.isNegative()) {
            throw new IllegalArgumentException("negative duration: " + d);
        }
        return io.holdfast.internal.DurationText.format(d);
    }

    private static boolean isAsciiDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isAsciiLetter(char c) {
        return c >= 'a' && c <= 'z';
    }

    private static Unit unitOf(String text, String symbol) {
        for (Unit unit : Unit.values()) {
            if (unit.symbol.equals(symbol)) {
                return unit;
            }
        }
        throw new InvalidDurationException(text, "unknown unit '" + symbol + "'");
    }

    private static Duration add(String text, Duration total, String digits, Unit unit) {
        try {
            return total.plus(unit.length.multipliedBy(Long.parseLong(digits)));
        } catch (NumberFormatException | ArithmeticException e) {
            throw new InvalidDurationException(text, "it is too large");
        }
    }
}
