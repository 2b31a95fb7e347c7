package io.holdfast.verify.run;

import java.time.Duration;

/** Durations as people write them: 500ms, 5s, 2m. */
final class Durations {
    private Durations() {}

    static String format(Duration d) {
        return io.holdfast.internal.DurationText.format(d);
    }
}
