package io.holdfast.examples.coupons;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.HdrHistogram.Histogram;

/**
 * {@code holdfast demo coupons}: runs the coupon service as several processes ({@link CouponInstance}) over
 * one database and one Holdfast service, once per strategy on the same workload, then audits the database
 * and prints what each strategy let through, with its throughput and latency.
 *
 * <p>By default everything is started here: an H2 database served over TCP on loopback (in memory) and a
 * single Holdfast node (temporary data directory). {@link Options#dbUrl} points the instances at another
 * database instead (PostgreSQL), {@link Options#holdfastUri} at another Holdfast service.
 *
 * <p>With {@link Options#pauseHolder}, one instance (the victim, one thread) stops at its first write: the
 * driver sends it SIGSTOP, waits past its lease and session TTL until another instance has redeemed, then
 * SIGCONT. Whatever it read is stale by then; the fencing check (pessimistic) or the version check
 * (optimistic) must refuse its write, and {@code none} shows what happens when nothing does.
 *
 * <p>Here are what to run and what came of it; the parts live apart: {@link Infrastructure} (the database
 * and the lock service), {@link StrategyRun} (one strategy's run, step by step, over {@link
 * InstanceProcess}es) and {@link DemoOutput} (what is printed).
 */
public final class CouponsDemo {
    private CouponsDemo() {}

    /**
     * What to run. Every field is checked by {@link #validate()}.
     *
     * @param strategies run each of these, in this order, on the same workload
     * @param instances service processes (the victim is one of them)
     * @param threads request threads per instance
     * @param users users, each asking {@code perUser + 1} times
     * @param stock coupons per campaign
     * @param campaigns campaigns; users are spread over them (1: every request contends)
     * @param perUser coupons a user may have per campaign
     * @param work the service's own work between its reads and its write
     * @param pauseHolder stop one instance between its read and its write, past its lease
     * @param fencing pessimistic only: check the fencing token (false shows what the check is for)
     * @param dbUrl a JDBC URL for the instances and the audit, or null for an H2 database started here
     * @param dbUser the database user (with {@code dbUrl})
     * @param dbPassword the database password (with {@code dbUrl}), or null
     * @param holdfastUri the lock service, or null for a single node started here
     * @param lease the lease timeout of each pessimistic lock (renewed by the client's watchdog)
     * @param sessionTtl the instances' session TTL
     * @param lockWait how long a pessimistic request waits for its lock
     * @param maxAttempts optimistic attempts per request before it gives up
     * @param seed the workload's shuffle
     * @param workDir where the instances' logs go
     */
    public record Options(
            List<Strategy> strategies,
            int instances,
            int threads,
            int users,
            int stock,
            int campaigns,
            int perUser,
            Duration work,
            boolean pauseHolder,
            boolean fencing,
            String dbUrl,
            String dbUser,
            String dbPassword,
            String holdfastUri,
            Duration lease,
            Duration sessionTtl,
            Duration lockWait,
            int maxAttempts,
            long seed,
            Path workDir) {

        /** The defaults of {@code holdfast demo coupons}, all strategies. */
        public static Options defaults(Path workDir) {
            return new Options(
                    List.of(Strategy.values()),
                    4,
                    8,
                    1000,
                    100,
                    1,
                    1,
                    Duration.ofMillis(2),
                    false,
                    true,
                    null,
                    null,
                    null,
                    null,
                    Duration.ofSeconds(1),
                    Duration.ofSeconds(2),
                    Duration.ofSeconds(60),
                    100,
                    1L,
                    workDir);
        }

        /** @throws IllegalArgumentException naming the option and its valid range */
        public void validate() {
            if (strategies == null || strategies.isEmpty()) {
                throw new IllegalArgumentException("--strategy: name at least one of pessimistic, optimistic, none");
            }
            range("--instances", instances, pauseHolder ? 2 : 1, 16);
            range("--threads", threads, 1, 64);
            range("--users", users, 1, 1_000_000);
            range("--stock", stock, 1, 1_000_000);
            range("--campaigns", campaigns, 1, 10_000);
            range("--per-user", perUser, 1, 100);
            range("--max-attempts", maxAttempts, 1, 1000);
            if ((long) stock * campaigns > 2_000_000L) {
                throw new IllegalArgumentException(
                        "--stock x --campaigns must be at most 2,000,000 coupons, not " + (long) stock * campaigns);
            }
            duration("--work", work, Duration.ZERO, Duration.ofSeconds(1));
            duration("--lease", lease, Duration.ofMillis(100), Duration.ofMinutes(1));
            duration("--session-ttl", sessionTtl, Duration.ofSeconds(1), Duration.ofMinutes(1));
            duration("--lock-wait", lockWait, Duration.ZERO, Duration.ofMinutes(10));
            if (dbUrl != null && !dbUrl.startsWith("jdbc:")) {
                throw new IllegalArgumentException(
                        "--db must be a JDBC URL (jdbc:postgresql://...), not '" + dbUrl + "'");
            }
            if (holdfastUri != null && holdfastUri.isBlank()) {
                throw new IllegalArgumentException("--server must not be empty");
            }
            Objects.requireNonNull(workDir, "workDir");
        }

        private static void range(String option, long value, long min, long max) {
            if (value < min || value > max) {
                throw new IllegalArgumentException(
                        option + " must be between " + min + " and " + max + ", not " + value);
            }
        }

        private static void duration(String option, Duration d, Duration min, Duration max) {
            if (d == null || d.compareTo(min) < 0 || d.compareTo(max) > 0) {
                throw new IllegalArgumentException(option + " must be between " + Durations.text(min) + " and "
                        + Durations.text(max) + ", not " + (d == null ? "nothing" : Durations.text(d)));
            }
        }
    }

    /** What the victim went through, with {@link Options#pauseHolder}. */
    public record Pause(int instance, String heldWhat, long stoppedMillis, String resumed) {
        /** True when the write after the pause was refused (fencing) or retried (optimistic version check). */
        public boolean refused() {
            return resumed != null && (resumed.startsWith("refused") || resumed.startsWith("conflict"));
        }
    }

    /** One strategy's run: the audit of the database, and what the instances measured. */
    public record Result(
            Strategy strategy,
            CouponDb.Audit audit,
            Map<Outcome, Long> outcomes,
            long conflicts,
            long lockWaitMicros,
            long lockHeldMicros,
            long grants,
            int reopened,
            long elapsedMillis,
            Histogram all,
            Histogram redeemed,
            Pause pause) {

        public long count(Outcome o) {
            return outcomes.getOrDefault(o, 0L);
        }

        public long requests() {
            return outcomes.values().stream().mapToLong(Long::longValue).sum();
        }

        public long doubleRedemptions() {
            return audit.doubleRedemptions();
        }

        public long overStock() {
            return audit.overStock();
        }

        public long overLimit() {
            return audit.overLimit();
        }

        public double requestsPerSecond() {
            return elapsedMillis == 0 ? 0 : requests() * 1000.0 / elapsedMillis;
        }

        /**
         * The strategy held: no anomaly, no error. For a safe strategy this must be true; {@code none} is
         * expected to fail it.
         */
        public boolean clean() {
            return audit.clean() && count(Outcome.ERROR) == 0;
        }
    }

    /** Every strategy's result, in the order run. */
    public record Report(List<Result> results, boolean fencing) {
        /**
         * True when every safe strategy came out clean, and (with the fencing check on) every paused
         * victim's write was refused.
         */
        public boolean ok() {
            for (Result r : results) {
                if (r.strategy().isSafe()
                        && (!r.clean()
                                || (fencing && r.pause() != null && !r.pause().refused()))) {
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * Runs every strategy of {@code options}, printing as it goes, and returns the results.
     *
     * @throws IllegalArgumentException for bad options (before anything starts)
     * @throws IllegalStateException when an instance fails (its log is named)
     */
    public static Report run(Options options, PrintWriter out) throws IOException, InterruptedException {
        options.validate();
        Files.createDirectories(options.workDir());
        List<Result> results = new ArrayList<>();
        try (Infrastructure infra = Infrastructure.start(options, out)) {
            out.printf(
                    Locale.ROOT,
                    "%d instances x %d threads; %,d users asking %d times each; %d campaign%s of %,d coupons, at most %d"
                            + " per user; %s of work between read and write%n",
                    options.instances(),
                    options.threads(),
                    options.users(),
                    options.perUser() + 1,
                    options.campaigns(),
                    options.campaigns() == 1 ? "" : "s",
                    options.stock(),
                    options.perUser(),
                    Durations.text(options.work()));
            out.flush();
            for (Strategy strategy : options.strategies()) {
                Result r = StrategyRun.run(strategy, options, infra, out);
                results.add(r);
                DemoOutput.print(r, out);
            }
        }
        Report report = new Report(List.copyOf(results), options.fencing());
        DemoOutput.table(report, out);
        return report;
    }
}
