package io.holdfast.internal;

import io.holdfast.Ticker;
import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * One log line per key and interval, with a count of what was left out: the engine behind the
 * server's "cannot reach member" lines and its failed-authentication lines. The caller reports
 * every occurrence of a key ({@link #occurred}) and logs what the answer says.
 *
 * <ul>
 *   <li>{@link Say#first()}: the first occurrence of the key after an interval without any (or
 *       ever): log it in full, and that it will be said again at most once an interval.
 *   <li>a later {@link Say}: an interval or more since the key's last line: log a summary with
 *       {@link Say#count()} (the occurrences since that line, this one included) and {@link
 *       Say#detail()} (the latest one given).
 *   <li>{@code null}: an interval has not passed since the key's last line: say nothing (counted).
 * </ul>
 *
 * <p><b>Guarantees.</b> At most one line per key per interval of the injected {@link Ticker}; no
 * occurrence is lost from the counts while its key is remembered. Thread-safe (one short lock).
 * Memory is bounded: at most {@code keys} keys are remembered; a key quiet for an interval is
 * forgotten first (its next occurrence would start anew anyway), and when every remembered key is
 * live, new keys share one key ({@link Say#crowded()}), so that a caller who varies the key (a
 * client that makes up identities) cannot grow the map or the log.
 *
 * <p><b>Does not</b> log anything itself, say when occurrences stop (the end shows as the end of
 * the lines), nor report occurrences after the last line until the next occurrence comes.
 */
public final class LineThrottle {
    /** The key that new keys share while {@code keys} keys are live. */
    static final String CROWD = "(crowded)";

    private final Ticker ticker;
    private final long everyNanos;
    private final int keys;
    private final Map<String, Run> runs = new HashMap<>();

    /**
     * What to log for one occurrence.
     *
     * @param first whether this is the first occurrence of a run: log it in full
     * @param count occurrences since the key's last line, this one included (1 for a first)
     * @param since how long since the key's last line (zero for a first)
     * @param detail the latest detail given for the key (this one's, unless it gave none)
     * @param crowded whether the key is the shared one of keys beyond the bound
     */
    public record Say(boolean first, long count, Duration since, String detail, boolean crowded) {}

    /** The occurrences of one key since its last line. */
    private static final class Run {
        long lastLine;
        long lastOccurrence;
        long count;
        String detail;
    }

    /**
     * @param ticker the clock (tests move their own)
     * @param every the interval: at most one line per key in it
     * @param keys the most keys remembered (at least 2)
     */
    public LineThrottle(Ticker ticker, Duration every, int keys) {
        if (every.isNegative() || every.isZero() || keys < 2) {
            throw new IllegalArgumentException("a throttle needs an interval above 0 and 2 keys or more");
        }
        this.ticker = ticker;
        this.everyNanos = every.toNanos();
        this.keys = keys;
    }

    /** The interval. */
    public Duration every() {
        return Duration.ofNanos(everyNanos);
    }

    /**
     * Counts {@code count} occurrences of {@code key} (one warning may stand for several) and says
     * whether to log now.
     *
     * @param detail what this occurrence says (a reason), or null to keep the one given before
     * @return what to log, or null for nothing
     */
    public Say occurred(String key, long count, String detail) {
        long now = ticker.nanos();
        synchronized (runs) {
            boolean crowded = false;
            Run run = runs.get(key);
            if (run == null && runs.size() >= keys - 1) {
                forgetQuiet(now);
                if (runs.size() >= keys - 1) {
                    key = CROWD;
                    crowded = true;
                    run = runs.get(CROWD);
                }
            }
            if (run == null || now - run.lastOccurrence >= everyNanos) {
                run = new Run();
                run.lastLine = now;
                run.lastOccurrence = now;
                run.detail = detail;
                runs.put(key, run);
                return new Say(true, count, Duration.ZERO, detail, crowded);
            }
            run.count += count;
            run.lastOccurrence = now;
            if (detail != null) {
                run.detail = detail;
            }
            if (now - run.lastLine < everyNanos) {
                return null;
            }
            Say say = new Say(false, run.count, Duration.ofNanos(now - run.lastLine), run.detail, crowded);
            run.lastLine = now;
            run.count = 0;
            return say;
        }
    }

    private void forgetQuiet(long now) {
        for (Iterator<Run> i = runs.values().iterator(); i.hasNext(); ) {
            if (now - i.next().lastOccurrence >= everyNanos) {
                i.remove();
            }
        }
    }
}
