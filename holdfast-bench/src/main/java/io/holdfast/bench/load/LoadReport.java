package io.holdfast.bench.load;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * The outcome of a measured run: pairs completed in the measured window and their latencies (microseconds), plus
 * the errors seen in that window by type.
 *
 * @param settings what was run
 * @param seconds the measured window's actual length
 * @param pair latency of acquire+release, from the call to acquire to the return of release
 * @param acquire latency of acquire alone (for a contended lock this includes the wait for the other holders)
 * @param release latency of release alone
 * @param errors counts by exception type, measured window only
 */
public record LoadReport(
        LoadSettings settings,
        double seconds,
        Histogram pair,
        Histogram acquire,
        Histogram release,
        Map<String, Long> errors,
        CpuMeter.CpuUse cpu) {

    /** Pairs completed in the measured window. */
    public long pairs() {
        return pair.getTotalCount();
    }

    public double pairsPerSecond() {
        return seconds <= 0 ? 0 : pairs() / seconds;
    }

    public long errorCount() {
        return errors.values().stream().mapToLong(Long::longValue).sum();
    }

    /** "pairs/s", or "handoffs/s" when every client shares one lock. */
    public String rateUnit() {
        return settings.contended() ? "handoffs/s" : "pairs/s";
    }

    /** Milliseconds of a histogram of microseconds at a percentile. */
    static double ms(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(percentile) / 1000.0;
    }

    static double maxMs(Histogram h) {
        return h.getTotalCount() == 0 ? Double.NaN : h.getMaxValue() / 1000.0;
    }

    /** The human table. */
    public void print(PrintWriter out) {
        out.printf(
                Locale.ROOT,
                "%s at %s: %s s measured after %s s warmup%n",
                settings.describe(),
                settings.backend(),
                fmt(seconds, 1),
                fmt(settings.warmup().toMillis() / 1000.0, 1));
        out.printf(
                Locale.ROOT,
                "  %-12s %,d%n  %-12s %,.0f %s%n",
                "pairs",
                pairs(),
                "throughput",
                pairsPerSecond(),
                rateUnit());
        out.printf(Locale.ROOT, "  %-12s %8s %8s %8s %8s %8s%n", "latency ms", "p50", "p90", "p99", "p99.9", "max");
        row(out, "pair", pair);
        row(out, "  acquire", acquire);
        row(out, "  release", release);
        out.printf(
                Locale.ROOT,
                "  %-12s client %s ms, servers %s ms%n",
                "cpu per pair",
                fmt(cpu.clientMsPerPair(), 3),
                Double.isNaN(cpu.serverMsPerPair()) ? "- (give --server-pid)" : fmt(cpu.serverMsPerPair(), 3));
        if (errors.isEmpty()) {
            out.printf(Locale.ROOT, "  %-12s none%n", "errors");
        } else {
            out.printf(Locale.ROOT, "  %-12s %,d%n", "errors", errorCount());
            errors.forEach((type, n) -> out.printf(Locale.ROOT, "    %-30s %,d%n", type, n));
        }
        out.flush();
    }

    private static void row(PrintWriter out, String what, Histogram h) {
        out.printf(
                Locale.ROOT,
                "  %-12s %8s %8s %8s %8s %8s%n",
                what,
                fmt(ms(h, 50), 2),
                fmt(ms(h, 90), 2),
                fmt(ms(h, 99), 2),
                fmt(ms(h, 99.9), 2),
                fmt(maxMs(h), 2));
    }

    static String fmt(double v, int decimals) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    /** The column names of {@link #tsv(String)}. */
    public static String tsvHeader() {
        return String.join(
                "\t",
                "label",
                "clients",
                "locks",
                "seconds",
                "pairs",
                "rate",
                "unit",
                "p50_ms",
                "p90_ms",
                "p99_ms",
                "p999_ms",
                "max_ms",
                "acquire_p50_ms",
                "release_p50_ms",
                "errors",
                "client_cpu_ms_per_pair",
                "server_cpu_ms_per_pair");
    }

    /** One tab-separated line for scripts. */
    public String tsv(String label) {
        return String.join(
                "\t",
                label,
                Integer.toString(settings.clients()),
                Integer.toString(settings.locks()),
                fmt(seconds, 1),
                Long.toString(pairs()),
                fmt(pairsPerSecond(), 0),
                rateUnit(),
                fmt(ms(pair, 50), 2),
                fmt(ms(pair, 90), 2),
                fmt(ms(pair, 99), 2),
                fmt(ms(pair, 99.9), 2),
                fmt(maxMs(pair), 2),
                fmt(ms(acquire, 50), 2),
                fmt(ms(release, 50), 2),
                errors.isEmpty() ? "0" : errorCount() + " " + errors,
                fmt(cpu.clientMsPerPair(), 4),
                fmt(cpu.serverMsPerPair(), 4));
    }
}
