package io.holdfast.verify.check;

import io.holdfast.verify.history.Record;
import java.util.List;
import java.util.Locale;

/** Times in reports: milliseconds after the run's first record, "t+12.345ms". */
final class Times {
    private Times() {}

    /** The time reports count from: the first record's time, or 0 for an empty run. */
    static long origin(List<Record> records) {
        return records.isEmpty() ? 0 : records.get(0).time();
    }

    static String at(long nanos, long origin) {
        return String.format(Locale.ROOT, "t+%.3fms", (nanos - origin) / 1e6);
    }
}
