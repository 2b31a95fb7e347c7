package io.holdfast.examples.coupons;

import java.time.Duration;
import java.util.Locale;

/** Durations as people write them: {@code 2ms}, {@code 1.5s}, {@code 2m}. */
final class Durations {
    private Durations() {}

    static String text(Duration d) {
        long nanos = d.toNanos();
        if (nanos == 0) {
            return "0s";
        }
        if (nanos < 1_000_000) {
            return trim(nanos / 1_000.0) + "us";
        }
        if (nanos < 1_000_000_000) {
            return trim(nanos / 1e6) + "ms";
        }
        if (nanos < 60_000_000_000L) {
            return trim(nanos / 1e9) + "s";
        }
        return trim(nanos / 6e10) + "m";
    }

    private static String trim(double v) {
        String s = String.format(Locale.ROOT, "%.1f", v);
        return s.endsWith(".0") ? s.substring(0, s.length() - 2) : s;
    }
}
