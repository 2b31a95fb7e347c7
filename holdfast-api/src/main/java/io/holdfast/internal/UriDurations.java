package io.holdfast.internal;

import io.holdfast.InvalidArgumentException;
import java.time.Duration;

/**
 * Durations in backend URI parameters, one syntax for every provider and the same as every flag's
 * ({@link DurationText#parse}: {@code 250ms}, {@code 10s}, {@code 1m30s}), inside the range the
 * parameter allows.
 *
 * <p>It guarantees that a value it returns is within {@code [min, max]}, and that a refused value
 * is an {@link InvalidArgumentException} of one line naming the URI (through {@link Redaction}),
 * the parameter, the value and what was expected. It does not accept fractions, negative values,
 * ISO-8601 ({@code PT10S}) or a bare number without a unit: {@code connectTimeout=5} is refused
 * rather than guessed as seconds or milliseconds. One failure story it prevents: a provider that
 * took {@code 5} as milliseconds gave up on every connection at once.
 */
public final class UriDurations {

    private UriDurations() {}

    /**
     * The duration {@code value} of the parameter {@code name} in {@code uri}.
     *
     * @throws InvalidArgumentException if it is not a duration, or outside {@code [min, max]}
     */
    public static Duration parse(String uri, String name, String value, Duration min, Duration max) {
        Duration d;
        try {
            d = DurationText.parse(value);
        } catch (DurationText.Malformed e) {
            throw new InvalidArgumentException("the URI " + Redaction.uri(uri) + " has " + name + "='" + value + "': "
                    + e.reason() + "; expected a duration such as 250ms, 10s, 2m or 1h");
        }
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw new InvalidArgumentException("the URI " + Redaction.uri(uri) + " has " + name + "=" + value
                    + ", not within " + text(min) + ".." + text(max));
        }
        return d;
    }

    private static String text(Duration d) {
        return DurationText.format(d);
    }
}
