package io.holdfast.examples.coupons;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * What {@code holdfast demo coupons} prints about its results: each strategy's run as it ends (requests and
 * their outcomes, latency, what the strategy cost, the paused victim's write, the audit with its verdict),
 * and the table of every strategy at the end with the run's conclusion.
 */
final class DemoOutput {
    private DemoOutput() {}

    static void print(CouponsDemo.Result r, PrintWriter out) {
        out.printf(
                Locale.ROOT,
                "  %,d requests in %.2f s (%,.0f/s): redeemed %,d, sold out %,d, limit reached %,d, stale refused %,d,"
                        + " gave up %,d, errors %,d%n",
                r.requests(),
                r.elapsedMillis() / 1000.0,
                r.requestsPerSecond(),
                r.count(Outcome.REDEEMED),
                r.count(Outcome.SOLD_OUT),
                r.count(Outcome.LIMIT_REACHED),
                r.count(Outcome.STALE_REFUSED),
                r.count(Outcome.GAVE_UP),
                r.count(Outcome.ERROR));
        out.printf(
                Locale.ROOT,
                "  latency: every request p50 %s, p99 %s, max %s; redemptions p50 %s, p99 %s%n",
                millis(r.all(), 50),
                millis(r.all(), 99),
                millis(r.all(), 100),
                millis(r.redeemed(), 50),
                millis(r.redeemed(), 99));
        if (r.strategy() == Strategy.OPTIMISTIC) {
            out.printf(
                    Locale.ROOT,
                    "  conflicts: %,d version checks failed, each retried after a backoff%n",
                    r.conflicts());
        } else if (r.strategy() == Strategy.PESSIMISTIC) {
            out.printf(
                    Locale.ROOT,
                    "  locks: %,d grants, held %.2f ms on average (read, work, write); %.1f s spent queued in all%n",
                    r.grants(),
                    r.grants() == 0 ? 0.0 : r.lockHeldMicros() / 1000.0 / r.grants(),
                    r.lockWaitMicros() / 1e6);
        }
        if (r.reopened() > 0) {
            out.printf("  sessions reopened after expiring: %d%n", r.reopened());
        }
        if (r.pause() != null) {
            out.printf("  pause: on resume, the victim's write: %s%n", r.pause().resumed());
        }
        CouponDb.Audit a = r.audit();
        String verdict;
        if (r.clean()) {
            verdict = "OK";
        } else if (r.strategy().isSafe()) {
            verdict = "VIOLATION: " + r.strategy().flag() + " must never let this happen";
        } else {
            verdict = "as expected without coordination";
        }
        out.printf(
                Locale.ROOT,
                "  audit: %,d redemptions; double redemptions %,d, over stock %,d, over the per-user limit %,d,"
                        + " campaign counters off by %,d: %s%n",
                a.redemptions(),
                a.doubleRedemptions(),
                a.overStock(),
                a.overLimit(),
                a.counterDrift(),
                verdict);
        out.flush();
    }

    static void table(CouponsDemo.Report report, PrintWriter out) {
        out.println();
        out.println("redemptions: how many, and what they cost (latency of the requests that got a coupon)");
        out.printf(
                "%-12s %8s %6s %9s %9s %9s %6s %6s %8s %10s %8s %8s%n",
                "strategy",
                "redeemed",
                "double",
                "overstock",
                "overlimit",
                "conflicts",
                "stale",
                "errors",
                "seconds",
                "redeemed/s",
                "p50 ms",
                "p99 ms");
        for (CouponsDemo.Result r : report.results()) {
            out.printf(
                    Locale.ROOT,
                    "%-12s %8d %6d %9d %9d %9d %6d %6d %8.2f %10.0f %8s %8s%n",
                    r.strategy().flag(),
                    r.count(Outcome.REDEEMED),
                    r.doubleRedemptions(),
                    r.overStock(),
                    r.overLimit(),
                    r.conflicts(),
                    r.count(Outcome.STALE_REFUSED),
                    r.count(Outcome.ERROR),
                    r.elapsedMillis() / 1000.0,
                    r.elapsedMillis() == 0 ? 0.0 : r.count(Outcome.REDEEMED) * 1000.0 / r.elapsedMillis(),
                    millis(r.redeemed(), 50),
                    millis(r.redeemed(), 99));
        }
        List<String> safe = report.results().stream()
                .filter(r -> r.strategy().isSafe())
                .map(r -> r.strategy().flag())
                .toList();
        if (!report.ok()) {
            out.println("FAILED: a safe strategy let an anomaly or an error through (see above; instance logs in the"
                    + " work directory).");
        } else if (!safe.isEmpty()) {
            out.println(
                    String.join(" and ", safe) + ": no coupon twice, no campaign over stock, no user over the limit.");
        }
        out.flush();
    }

    private static String millis(Histogram h, double percentile) {
        if (h.getTotalCount() == 0) {
            return "-";
        }
        long micros = percentile >= 100 ? h.getMaxValue() : h.getValueAtPercentile(percentile);
        return String.format(Locale.ROOT, micros < 10_000 ? "%.2f" : "%.0f", micros / 1000.0);
    }
}
