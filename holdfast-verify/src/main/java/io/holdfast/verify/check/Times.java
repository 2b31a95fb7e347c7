package io.holdfast.verify.check;

import io.holdfast.verify.history.Meta;
import io.holdfast.verify.history.Record;
import java.util.List;
import java.util.Locale;

/** Times in reports: milliseconds after the run's start, "t+12.345ms". */
final class Times {
    private Times() {}

    /**
     * The time reports count from: the run's {@link Meta} (written as it starts), else the first
     * record's time, or 0 for an empty run. (Not simply the first record: the applied traces, read
     * from the nodes' logs after the run, carry no time and sort first.)
     */
    static long origin(List<Record> records) {
        for (Record r : records) {
            if (r instanceof Meta m) {
                return m.time();
            }
        }
        return records.isEmpty() ? 0 : records.get(0).time();
    }

    static String at(long nanos, long origin) {
        return String.format(Locale.ROOT, "t+%.3fms", (nanos - origin) / 1e6);
    }
}
