package io.holdfast.cli;

import java.time.Duration;

/**
 * Reads and writes durations the way Holdfast's flags, configuration and URIs spell them (the one syntax,
 * {@link io.holdfast.internal.DurationText}), with the CLI's typed error: a whole number
 * followed by a unit, {@code ms}, {@code s}, {@code m}, {@code h} or {@code d} (24 hours), for example
 * {@code 250ms}, {@code 30s}, {@code 2m}, {@code 1h}, {@code 30d}. Terms may be combined from the largest unit
 * down, each unit at most once: {@code 1d12h}, {@code 1h30m}, {@code 1m30s}, {@code 2s500ms}.
 *
 * <p>Not accepted, each with its own message: a number without a unit, fractions ({@code 1.5s}), signs,
 * inner spaces, other units ({@code w}, {@code us}), units out of order or repeated, and values past
 * {@link Duration}'s range. Surrounding whitespace is ignored.
 */
public final class Durations {
    private Durations() {}

    /**
     * Parses {@code text}.
     *
     * @throws InvalidDurationException if it is not a duration in the syntax above
     */
    public static Duration parse(String text) {
        try {
            return io.holdfast.internal.DurationText.parse(text);
        } catch (io.holdfast.internal.DurationText.Malformed e) {
            throw new InvalidDurationException(e.input(), e.reason());
        }
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
}
