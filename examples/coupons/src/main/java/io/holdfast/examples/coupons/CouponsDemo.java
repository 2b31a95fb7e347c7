// Ceiling 880 lines, one idea: the whole demo run (start the database and the service, run each strategy, audit,
// print) in the order it happens, so that a reader follows it top to bottom.
package io.holdfast.examples.coupons;

import io.holdfast.server.HoldfastServer;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.config.StartupException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
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
 */
public final class CouponsDemo {
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration RUN_TIMEOUT = Duration.ofMinutes(15);
    private static final Duration PROGRESS_TIMEOUT = Duration.ofSeconds(30);

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
                Result r = runOne(strategy, options, infra, out);
                results.add(r);
                print(r, options, out);
            }
        }
        Report report = new Report(List.copyOf(results), options.fencing());
        table(report, out);
        return report;
    }

    private static Result runOne(Strategy strategy, Options o, Infrastructure infra, PrintWriter out)
            throws IOException, InterruptedException {
        try (Connection c = infra.connect()) {
            CouponDb.reset(c, o.campaigns(), o.stock(), o.perUser());
        } catch (SQLException e) {
            throw new IllegalStateException("cannot set up the coupon tables: " + e.getMessage(), e);
        }
        out.printf(
                "%n%s: %s%s%n",
                strategy.flag(),
                strategy.summary(),
                strategy == Strategy.PESSIMISTIC && !o.fencing() ? " (fencing check OFF)" : "");
        out.flush();
        Path logs = o.workDir().resolve(strategy.flag());
        Files.createDirectories(logs);
        int victim = o.pauseHolder() ? 1 : -1;
        List<Child> children = new ArrayList<>();
        try {
            for (int i = 0; i < o.instances(); i++) {
                children.add(Child.start(
                        i,
                        command(strategy, o, infra, i, i == victim),
                        infra.dbPassword(),
                        logs.resolve("instance-" + i + ".log")));
            }
            for (Child child : children) {
                child.expect("READY", READY_TIMEOUT);
            }
            for (Child child : children) {
                child.send("start");
            }
            long started = System.nanoTime();
            long deadline = started + RUN_TIMEOUT.toNanos();
            Map<Child, InstanceResult> results = new java.util.LinkedHashMap<>();
            Pause pause = null;
            while (results.size() < children.size()) {
                boolean quiet = true;
                for (Child child : children) {
                    if (results.containsKey(child)) {
                        continue;
                    }
                    String line = child.poll("finish its requests", deadline);
                    if (line == null) {
                        continue;
                    }
                    quiet = false;
                    if (line.startsWith(InstanceResult.PREFIX)) {
                        results.put(child, InstanceResult.decode(line));
                    } else if (line.startsWith("PAUSE ")) {
                        pause = pauseVictim(child, line.substring("PAUSE ".length()), o, infra, out);
                    } else if (line.startsWith("RESUMED ") && pause != null) {
                        pause = new Pause(
                                pause.instance(),
                                pause.heldWhat(),
                                pause.stoppedMillis(),
                                line.substring("RESUMED ".length()));
                    } else {
                        throw child.failure("printed an unexpected line: " + line);
                    }
                }
                if (quiet) {
                    Thread.sleep(5);
                }
            }
            long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            for (Child child : children) {
                child.awaitExit();
            }
            if (victim >= 0 && pause == null) {
                out.println("  pause: the victim never got to write (no stock left when it came to it)");
            }
            CouponDb.Audit audit;
            try (Connection c = infra.connect()) {
                audit = CouponDb.audit(c);
            } catch (SQLException e) {
                throw new IllegalStateException("cannot audit the coupon tables: " + e.getMessage(), e);
            }
            return merge(strategy, audit, new ArrayList<>(results.values()), elapsed, pause);
        } finally {
            for (Child child : children) {
                child.destroy();
            }
        }
    }

    /**
     * The victim waits at its write: stop it, keep it stopped past its lease and session TTL until another
     * instance has redeemed, resume it, let it write.
     */
    private static Pause pauseVictim(Child victim, String what, Options o, Infrastructure infra, PrintWriter out)
            throws InterruptedException {
        out.printf("  pause: instance %d is about to write (%s); SIGSTOP%n", victim.index, what);
        out.flush();
        long before = redemptions(infra);
        victim.signal("STOP");
        long stopped = System.nanoTime();
        Duration pastLease = (o.lease().compareTo(o.sessionTtl()) > 0 ? o.lease() : o.sessionTtl()).plusMillis(500);
        long deadline = stopped + pastLease.plus(PROGRESS_TIMEOUT).toNanos();
        while (System.nanoTime() - stopped < pastLease.toNanos()
                || (redemptions(infra) <= before && System.nanoTime() < deadline)) {
            Thread.sleep(50);
        }
        long stoppedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopped);
        long after = redemptions(infra);
        out.printf(
                Locale.ROOT,
                "  pause: instance %d stopped for %.1f s (lease %s, session TTL %s); %d redemptions by others meanwhile;"
                        + " SIGCONT%n",
                victim.index,
                stoppedMillis / 1000.0,
                Durations.text(o.lease()),
                Durations.text(o.sessionTtl()),
                after - before);
        out.flush();
        victim.signal("CONT");
        victim.send("go");
        return new Pause(victim.index, what, stoppedMillis, null);
    }

    private static long redemptions(Infrastructure infra) {
        try (Connection c = infra.connect()) {
            return CouponDb.count(c, "redemptions");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot count redemptions: " + e.getMessage(), e);
        }
    }

    private static List<String> command(Strategy strategy, Options o, Infrastructure infra, int index, boolean victim) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-Xmx256m");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(CouponInstance.class.getName());
        String[][] args = {
            {"instance", Integer.toString(index)},
            {"instances", Integer.toString(o.instances())},
            {"victim", Boolean.toString(victim)},
            {"threads", Integer.toString(o.threads())},
            {"strategy", strategy.flag()},
            {"work-nanos", Long.toString(o.work().toNanos())},
            {"lease-ms", Long.toString(o.lease().toMillis())},
            {"lock-wait-ms", Long.toString(o.lockWait().toMillis())},
            {"max-attempts", Integer.toString(o.maxAttempts())},
            {"fencing", Boolean.toString(o.fencing())},
            {"seed", Long.toString(o.seed())},
            {"users", Integer.toString(o.users())},
            {"campaigns", Integer.toString(o.campaigns())},
            {"per-user", Integer.toString(o.perUser())},
            {"db-url", infra.instanceDbUrl()},
            {"db-user", infra.dbUser()},
            {"ttl-ms", Long.toString(o.sessionTtl().toMillis())},
            {"holdfast", infra.holdfastUri()},
        };
        for (String[] kv : args) {
            cmd.add("--" + kv[0]);
            cmd.add(kv[1]);
        }
        return cmd;
    }

    private static Result merge(
            Strategy strategy, CouponDb.Audit audit, List<InstanceResult> results, long elapsed, Pause pause) {
        Map<Outcome, Long> outcomes = new EnumMap<>(Outcome.class);
        Histogram all = InstanceResult.histogram();
        Histogram redeemed = InstanceResult.histogram();
        long conflicts = 0;
        long lockWait = 0;
        long lockHeld = 0;
        long grants = 0;
        int reopened = 0;
        for (InstanceResult r : results) {
            for (Outcome o : Outcome.values()) {
                outcomes.merge(o, r.count(o), Long::sum);
            }
            conflicts += r.conflicts();
            lockWait += r.lockWaitMicros();
            lockHeld += r.lockHeldMicros();
            grants += r.grants();
            reopened += r.reopened();
            all.add(r.all());
            redeemed.add(r.redeemed());
        }
        return new Result(
                strategy, audit, outcomes, conflicts, lockWait, lockHeld, grants, reopened, elapsed, all, redeemed,
                pause);
    }

    private static void print(Result r, Options o, PrintWriter out) {
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

    private static void table(Report report, PrintWriter out) {
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
        for (Result r : report.results()) {
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

    /** The database and the lock service the instances share. */
    private static final class Infrastructure implements AutoCloseable {
        private final List<AutoCloseable> closers = new ArrayList<>();
        private String instanceDbUrl;
        private String driverDbUrl;
        private String dbUser = "";
        private String dbPassword = "";
        private String holdfastUri;

        static Infrastructure start(Options o, PrintWriter out) throws IOException {
            Infrastructure infra = new Infrastructure();
            boolean ok = false;
            try {
                infra.startDatabase(o, out);
                infra.startHoldfast(o, out);
                ok = true;
                return infra;
            } finally {
                if (!ok) {
                    infra.close();
                }
            }
        }

        private void startDatabase(Options o, PrintWriter out) throws IOException {
            if (o.dbUrl() != null) {
                instanceDbUrl = o.dbUrl();
                driverDbUrl = o.dbUrl();
                dbUser = o.dbUser() == null ? "" : o.dbUser();
                dbPassword = o.dbPassword() == null ? "" : o.dbPassword();
                try (Connection c = connect()) {
                    out.printf(
                            "database: %s (%s %s)%n",
                            o.dbUrl(),
                            c.getMetaData().getDatabaseProductName(),
                            c.getMetaData().getDatabaseProductVersion());
                } catch (SQLException e) {
                    throw new IllegalStateException("cannot connect to " + o.dbUrl() + ": " + e.getMessage(), e);
                }
                return;
            }
            String name =
                    "coupons_" + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
            driverDbUrl = "jdbc:h2:mem:" + name + ";DB_CLOSE_DELAY=-1;LOCK_TIMEOUT=10000";
            try {
                // Keeps the in-memory database alive for the whole demo.
                Connection keep = DriverManager.getConnection(driverDbUrl);
                closers.add(keep);
                int port = freePort();
                org.h2.tools.Server tcp = org.h2.tools.Server.createTcpServer(
                                "-tcpPort", Integer.toString(port), "-tcpDaemon")
                        .start();
                closers.add(tcp::stop);
                instanceDbUrl = "jdbc:h2:tcp://127.0.0.1:" + port + "/mem:" + name + ";LOCK_TIMEOUT=10000";
                out.printf(
                        "database: H2 %s in memory, served on 127.0.0.1:%d%n",
                        keep.getMetaData().getDatabaseProductVersion(), port);
            } catch (SQLException e) {
                throw new IllegalStateException("cannot start the H2 database: " + e.getMessage(), e);
            }
        }

        private void startHoldfast(Options o, PrintWriter out) throws IOException {
            if (o.holdfastUri() != null) {
                holdfastUri = o.holdfastUri();
                out.printf("lock service: %s%n", holdfastUri);
                return;
            }
            Path data = Files.createTempDirectory("holdfast-coupons-");
            closers.add(() -> deleteTree(data));
            HoldfastServer server;
            try {
                server = HoldfastServer.start(ServerConfig.single(data, "127.0.0.1", freePort(), freePort(), -1));
            } catch (StartupException e) {
                throw new IllegalStateException("cannot start a Holdfast node: " + e.getMessage(), e);
            }
            closers.add(server);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!server.isLeader()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the Holdfast node did not become leader within 30 s");
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while starting the Holdfast node", e);
                }
            }
            holdfastUri = "holdfast://127.0.0.1:" + server.clientPort();
            out.printf("lock service: a Holdfast node on %s (started here)%n", holdfastUri);
        }

        Connection connect() throws SQLException {
            return dbUser.isEmpty()
                    ? DriverManager.getConnection(driverDbUrl)
                    : DriverManager.getConnection(driverDbUrl, dbUser, dbPassword);
        }

        String instanceDbUrl() {
            return instanceDbUrl;
        }

        String dbUser() {
            return dbUser;
        }

        String dbPassword() {
            return dbPassword;
        }

        String holdfastUri() {
            return holdfastUri;
        }

        @Override
        public void close() {
            for (int i = closers.size() - 1; i >= 0; i--) {
                try {
                    closers.get(i).close();
                } catch (Exception ignored) {
                    // best effort: the demo is over
                }
            }
        }

        private static int freePort() throws IOException {
            try (ServerSocket s = new ServerSocket(0)) {
                return s.getLocalPort();
            }
        }

        private static void deleteTree(Path root) throws IOException {
            if (!Files.exists(root)) {
                return;
            }
            try (Stream<Path> paths = Files.walk(root)) {
                for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** One instance process: its stdout lines, its stdin, its log. */
    private static final class Child {
        final int index;
        final Process process;
        final Path log;
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        final PrintWriter stdin;

        private Child(int index, Process process, Path log) {
            this.index = index;
            this.process = process;
            this.log = log;
            this.stdin = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
            Thread pump = new Thread(this::pump, "coupons-instance-" + index);
            pump.setDaemon(true);
            pump.start();
        }

        static Child start(int index, List<String> command, String dbPassword, Path log) throws IOException {
            ProcessBuilder pb = new ProcessBuilder(command)
                    .redirectError(ProcessBuilder.Redirect.to(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.PIPE);
            pb.environment().put(CouponInstance.PASSWORD_ENV, dbPassword);
            return new Child(index, pb.start(), log);
        }

        private void pump() {
            try (BufferedReader in =
                    new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // the process is gone; expect() notices
            }
        }

        void send(String line) {
            stdin.println(line);
        }

        void expect(String wanted, Duration timeout) throws InterruptedException {
            String line = next(timeout, "print " + wanted);
            if (!line.equals(wanted)) {
                throw failure("printed '" + line + "' instead of " + wanted);
            }
        }

        /**
         * The next line if there is one, else null.
         *
         * @throws IllegalStateException if the process has ended without a line left, or the deadline passed
         */
        String poll(String what, long deadline) {
            String line = lines.poll();
            if (line != null) {
                return line;
            }
            if (!process.isAlive() && lines.isEmpty()) {
                throw failure("exited with " + process.exitValue() + " before it could " + what);
            }
            if (System.nanoTime() > deadline) {
                throw failure("did not " + what + " within " + Durations.text(RUN_TIMEOUT));
            }
            return null;
        }

        private String next(Duration timeout, String what) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                String line = lines.poll(100, TimeUnit.MILLISECONDS);
                if (line != null) {
                    return line;
                }
                if (!process.isAlive() && lines.isEmpty()) {
                    throw failure("exited with " + process.exitValue() + " before it could " + what);
                }
                if (System.nanoTime() > deadline) {
                    throw failure("did not " + what + " within " + Durations.text(timeout));
                }
            }
        }

        void signal(String signal) throws InterruptedException {
            try {
                Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid()))
                        .redirectErrorStream(true)
                        .start();
                if (kill.waitFor() != 0) {
                    throw failure("could not be sent SIG" + signal);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot run kill -" + signal, e);
            }
        }

        void awaitExit() throws InterruptedException {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                throw failure("did not exit after reporting");
            }
            if (process.exitValue() != 0) {
                throw failure("exited with " + process.exitValue());
            }
        }

        void destroy() {
            if (process.isAlive()) {
                try {
                    signal("CONT");
                } catch (RuntimeException | InterruptedException ignored) {
                    // it is being killed anyway
                }
                process.destroyForcibly();
            }
        }

        IllegalStateException failure(String what) {
            String tail = "";
            try {
                List<String> all = Files.readAllLines(log);
                tail = String.join(
                        System.lineSeparator() + "    ", all.subList(Math.max(0, all.size() - 10), all.size()));
            } catch (IOException ignored) {
                // no log to show
            }
            return new IllegalStateException("coupon instance " + index + " " + what + " (log: " + log + ")"
                    + (tail.isBlank() ? "" : System.lineSeparator() + "    " + tail));
        }
    }
}
