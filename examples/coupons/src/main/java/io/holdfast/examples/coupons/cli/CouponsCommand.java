package io.holdfast.examples.coupons.cli;

import io.holdfast.cli.CliCommand;
import io.holdfast.cli.CliFailure;
import io.holdfast.cli.DurationConverter;
import io.holdfast.cli.ExitCodes;
import io.holdfast.examples.coupons.CouponsDemo;
import io.holdfast.examples.coupons.Strategy;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code holdfast demo coupons}: the coupon service of examples/coupons, several instance processes over one
 * database, once per strategy on the same workload; prints what each let through and what it cost. Exit 0
 * when pessimistic and optimistic (whichever ran) handed no coupon out twice, sold no campaign over its stock,
 * let no user over the limit, and (with --pause-holder) refused the paused holder's stale write; 1 otherwise.
 *
 * <p>A command of the repository's lab, not of the product: holdfast-cli finds it at run time ({@link CliCommand},
 * named in this module's {@code META-INF/services}) under {@code holdfast demo} when
 * {@code examples/coupons/target/cli-commands.jar} is on the class path, as the repository's {@code ./holdfast}
 * puts it; the distribution leaves it out and says so. The instances are started with this process's class path,
 * so they find the example's classes too.
 *
 * <p>Not guaranteed: that a broken strategy shows in a given run (none may get lucky on a quiet machine).
 * Failure story: an instance process dies or the database refuses it; the run stops, exits 70 and names the
 * directory with the instances' logs, which is kept.
 */
@Command(
        name = "coupons",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        description = {
            "Redeem coupons from several service instances (separate processes) sharing one database, with each",
            "strategy in turn: pessimistic (a Holdfast lock per campaign, its fencing token checked in the UPDATE),",
            "optimistic (a version check in the UPDATE, retried with backoff) and none. Then audit the database:",
            "double redemptions, campaigns over stock, users over the limit; and print throughput and latency.",
            "Starts an H2 database and a Holdfast node in this process unless --db and --server name others."
        },
        footer = {
            "",
            "Examples:",
            "  holdfast demo coupons                                 all three strategies, one contended campaign",
            "  holdfast demo coupons --strategy pessimistic --pause-holder",
            "  holdfast demo coupons --campaigns 50 --users 5000     low contention",
            "  HOLDFAST_DB_PASSWORD=... holdfast demo coupons --db jdbc:postgresql://127.0.0.1/shop --db-user shop",
            "More: examples/coupons/README.md"
        })
public final class CouponsCommand implements Callable<Integer>, CliCommand {
    @Spec
    CommandSpec spec;

    @Option(
            names = "--strategy",
            split = ",",
            paramLabel = "NAME",
            description = "pessimistic, optimistic or none; repeat or separate with commas (default: all three).")
    List<String> strategies = new ArrayList<>();

    @Option(names = "--instances", paramLabel = "N", defaultValue = "4", description = "Service processes (1-16).")
    int instances;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "8", description = "Request threads per instance.")
    int threads;

    @Option(
            names = "--users",
            paramLabel = "N",
            defaultValue = "1000",
            description = "Users; each asks once more than allowed.")
    int users;

    @Option(names = "--stock", paramLabel = "N", defaultValue = "100", description = "Coupons per campaign.")
    int stock;

    @Option(
            names = "--campaigns",
            paramLabel = "N",
            defaultValue = "1",
            description = "Campaigns the users are spread over: 1 is high contention, many is low.")
    int campaigns;

    @Option(
            names = "--per-user",
            paramLabel = "N",
            defaultValue = "1",
            description = "Coupons a user may have per campaign.")
    int perUser;

    @Option(
            names = "--work",
            paramLabel = "DURATION",
            defaultValue = "2ms",
            converter = DurationConverter.class,
            description = "The service's own work between its read and its write (default: ${DEFAULT-VALUE}).")
    Duration work;

    @Option(
            names = "--pause-holder",
            description = "Stop one instance (SIGSTOP) between its read and its write, past its lease, then resume it:"
                    + " its stale write must be refused.")
    boolean pauseHolder;

    @Option(
            names = "--no-fencing",
            description = "Pessimistic without the fencing-token check, to show what the check is for (unsafe).")
    boolean noFencing;

    @Option(
            names = "--db",
            paramLabel = "JDBC-URL",
            description = "A database for the instances (PostgreSQL or H2; password in HOLDFAST_DB_PASSWORD)."
                    + " Default: an H2 database in memory, served from this process.")
    String db;

    @Option(names = "--db-user", paramLabel = "USER", description = "The database user, with --db.")
    String dbUser;

    @Option(
            names = "--server",
            paramLabel = "URI",
            description = "The lock service (holdfast://host:port,...). Default: a single node started here.")
    String server;

    @Option(
            names = "--lease",
            paramLabel = "DURATION",
            defaultValue = "1s",
            converter = DurationConverter.class,
            description = "Lease timeout of each pessimistic lock, renewed while held (default: ${DEFAULT-VALUE}).")
    Duration lease;

    @Option(
            names = "--session-ttl",
            paramLabel = "DURATION",
            defaultValue = "2s",
            converter = DurationConverter.class,
            description = "The instances' session TTL (default: ${DEFAULT-VALUE}).")
    Duration sessionTtl;

    @Option(
            names = "--lock-wait",
            paramLabel = "DURATION",
            defaultValue = "60s",
            converter = DurationConverter.class,
            description = "How long a pessimistic request waits for its lock (default: ${DEFAULT-VALUE}).")
    Duration lockWait;

    @Option(
            names = "--max-attempts",
            paramLabel = "N",
            defaultValue = "100",
            description = "Optimistic attempts per request before it gives up (default: ${DEFAULT-VALUE}).")
    int maxAttempts;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Shuffles the requests.")
    long seed;

    @Option(
            names = "--logs",
            paramLabel = "DIR",
            description = "Keep the instances' logs here (default: a temporary directory, removed after a clean run).")
    Path logs;

    /** Under {@code holdfast demo}. */
    @Override
    public List<String> parent() {
        return List.of("demo");
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        List<Strategy> chosen = chosenStrategies();
        Path workDir = logs != null ? logs : Files.createTempDirectory("holdfast-coupons-");
        CouponsDemo.Options options = new CouponsDemo.Options(
                chosen,
                instances,
                threads,
                users,
                stock,
                campaigns,
                perUser,
                work,
                pauseHolder,
                !noFencing,
                db,
                dbUser,
                System.getenv("HOLDFAST_DB_PASSWORD"),
                server,
                lease,
                sessionTtl,
                lockWait,
                maxAttempts,
                seed,
                workDir);
        PrintWriter out = spec.commandLine().getOut();
        CouponsDemo.Report report;
        try {
            options.validate();
            report = CouponsDemo.run(options, out);
        } catch (IllegalArgumentException e) {
            removeIfTemporary(workDir);
            throw new CliFailure(ExitCodes.USAGE, e.getMessage());
        } catch (IllegalStateException e) {
            throw new CliFailure(ExitCodes.SOFTWARE, e.getMessage() + " (logs: " + workDir + ")");
        }
        if (report.ok()) {
            removeIfTemporary(workDir);
            return ExitCodes.OK;
        }
        out.println("instance logs: " + workDir);
        return ExitCodes.CHECK_FAILED;
    }

    private List<Strategy> chosenStrategies() {
        if (strategies.isEmpty()) {
            return List.of(Strategy.values());
        }
        Set<Strategy> set = new LinkedHashSet<>();
        for (String s : strategies) {
            try {
                set.add(Strategy.parse(s));
            } catch (IllegalArgumentException e) {
                throw new CliFailure(ExitCodes.USAGE, "--strategy: " + e.getMessage());
            }
        }
        return List.copyOf(set);
    }

    private void removeIfTemporary(Path dir) throws IOException {
        if (logs != null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
