package io.holdfast.bench.population;

import java.io.PrintStream;
import java.time.Clock;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Why a crowd's sessions were lost, as their clients said it ({@code SessionListener#lost}): the
 * first {@value #EACH_LOGGED} losses each on a line of their own, with the time of this machine's
 * clock, then only counted by cause; {@link #summary} gives the counts.
 *
 * <p>The crowd counts sessions no longer open; this says why. A run stopped with 169 sessions
 * expired while the population grew (2026-12-06, run c), and nothing in the workers' logs said
 * whether their heartbeats went unanswered, the service expired them, or a member refused them.
 *
 * <p><b>Guarantees.</b> At most {@value #MOST_CAUSES} causes are told apart (the later ones are
 * counted as "other causes"), so a flood of losses costs a counter each. Thread-safe.
 */
final class SessionLosses {
    /** Losses logged one by one before they are only counted. */
    static final int EACH_LOGGED = 20;
    /** Causes told apart. */
    static final int MOST_CAUSES = 16;

    private static final String OTHER = "(other causes)";

    private final PrintStream log;
    private final Clock clock;
    private final Map<String, Long> byCause = new LinkedHashMap<>(); // guarded by this
    private long lost; // guarded by this

    /**
     * @param log where each of the first losses is written (a worker's standard error, its log)
     * @param clock the time each logged loss is stamped with
     */
    SessionLosses(PrintStream log, Clock clock) {
        this.log = log;
        this.clock = clock;
    }

    /** Session {@code id} was lost, for {@code cause} (one line). */
    void lost(String id, String cause) {
        String why = cause == null || cause.isBlank() ? "(no cause given)" : cause.strip();
        synchronized (this) { // the lines in the order counted
            long n = ++lost;
            String key = byCause.containsKey(why) || byCause.size() < MOST_CAUSES ? why : OTHER;
            byCause.merge(key, 1L, Long::sum);
            if (n <= EACH_LOGGED) {
                log.printf("%s population: session %s lost (%d so far): %s%n", now(), id, n, why);
            } else if (n == EACH_LOGGED + 1) {
                log.printf("%s population: more sessions lost; from now on only counted by cause%n", now());
            }
        }
    }

    private LocalTime now() {
        return LocalTime.now(clock).truncatedTo(ChronoUnit.MILLIS);
    }

    /** How many sessions were lost. */
    synchronized long count() {
        return lost;
    }

    /** The losses by cause, most first: "3 × cause; 1 × other" (empty when none was lost). */
    synchronized String summary() {
        StringBuilder out = new StringBuilder();
        byCause.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .forEach(e -> out.append(out.length() == 0 ? "" : "; ")
                        .append(e.getValue())
                        .append(" × ")
                        .append(e.getKey()));
        return out.toString();
    }
}
