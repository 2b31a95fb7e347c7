package io.holdfast.cli;

import io.holdfast.verify.check.AvailabilityChecker;
import io.holdfast.verify.run.Soak;
import io.holdfast.verify.run.Verifier;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code holdfast verify}: Jepsen-style verification ({@link Verifier}). Starts a cluster of server
 * processes, client processes and fenced stores on loopback, injects the scenario's faults, records
 * the history and checks it. Exit 0 only when every checker passed. With {@code --soak} it runs
 * rounds of random scenarios with random seeds ({@link Soak}) until the soak's duration has passed;
 * Ctrl-C (SIGINT) ends a soak early, after printing the totals of the rounds so far.
 *
 * <p>Not checked here: whether a combination of options makes sense beyond the ones refused below
 * ({@code --soak} with {@code --scenario}, {@code --bug}, {@code --check} or {@code --duration};
 * {@code --round-duration} without {@code --soak}). Failure story: a soak stopped with SIGKILL
 * prints no totals, and nothing stops the processes of its round under way but their own end.
 */
@Command(
        name = "verify",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        description = {
            "Verify Holdfast under faults: server nodes, clients and fenced stores as separate processes on"
                    + " loopback; kills, pauses and partitions; a recorded history; checkers that can fail.",
            "",
            "  holdfast verify --scenario leader-kill --duration 60s --seed 7",
            "  holdfast verify --scenario all --duration 60s",
            "  holdfast verify --bug release-by-anyone        (must fail: the checkers catch a planted bug)",
            "  holdfast verify --soak 8h --round-duration 60s (random scenarios and seeds; Ctrl-C prints totals)",
            "  holdfast verify --check verify-runs/<run>/history.jsonl",
            "",
            "Exit code: 0 every checker passed; 1 a violation or an inconclusive check; 64 usage error.",
            "Details: docs/verification.md."
        })
final class VerifyCommand implements Callable<Integer> {
    /** How long a soak stopped by SIGINT may take to end its round and print its totals. */
    private static final Duration SOAK_STOP_GRACE = Duration.ofMinutes(2);

    @Spec
    CommandSpec spec;

    @Option(
            names = "--scenario",
            defaultValue = "all",
            description = "A scenario name (see --list-scenarios) or 'all' (default: ${DEFAULT-VALUE}).")
    String scenario;

    @Option(
            names = "--duration",
            defaultValue = "60s",
            converter = DurationConverter.class,
            description = "How long faults run in each scenario (default: ${DEFAULT-VALUE}).")
    Duration duration;

    @Option(names = "--seed", description = "Seed of the workload and the fault schedule (default: random, printed).")
    Long seed;

    @Option(
            names = "--clients",
            defaultValue = "4",
            description = "Client processes besides the intruder (default: ${DEFAULT-VALUE}).")
    int clients;

    @Option(
            names = "--bug",
            paramLabel = "NAME",
            description = "Plant this bug (in the server processes the harness starts, or in its clients for"
                    + " leader-ignores-loss) and run the scenario that must expose it; a correct harness exits 1"
                    + " and names the violation.")
    String bug;

    @Option(
            names = "--out",
            defaultValue = "verify-runs",
            description = "Where each run's directory goes: history, logs, data (default: ./${DEFAULT-VALUE}).")
    Path out;

    @Option(
            names = "--soak",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "Run rounds until DURATION has passed, each a random scenario with a random seed drawn"
                    + " from --seed (the master seed); keep only the failed rounds' directories in --out.")
    Duration soak;

    @Option(
            names = "--round-duration",
            defaultValue = "60s",
            converter = DurationConverter.class,
            description = "With --soak: how long faults run in each round (default: ${DEFAULT-VALUE}).")
    Duration roundDuration;

    @Option(
            names = "--max-kill-gap",
            defaultValue = "3s",
            converter = DurationConverter.class,
            description = "The availability checker's bound from a SIGKILL of the leader to the next successful"
                    + " write (default: ${DEFAULT-VALUE}, for a quiet machine).")
    Duration maxKillGap;

    @Option(
            names = "--max-heal-gap",
            defaultValue = "5s",
            converter = DurationConverter.class,
            description = "The availability checker's bound from a heal, restart or resume to the next successful"
                    + " write (default: ${DEFAULT-VALUE}, for a quiet machine).")
    Duration maxHealGap;

    @Option(names = "--check", paramLabel = "FILE", description = "Only check a recorded history again.")
    Path check;

    @Option(names = "--list-scenarios", description = "Name every scenario and exit.")
    boolean listScenarios;

    @Option(names = "--list-bugs", description = "Name every planted bug and exit.")
    boolean listBugs;

    @Override
    public Integer call() throws Exception {
        PrintStream stdout = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        java.io.PrintWriter listing = spec.commandLine().getOut();
        if (listScenarios) {
            Verifier.scenarioLines().forEach(listing::println);
            listing.flush();
            return ExitCodes.OK;
        }
        if (listBugs) {
            Verifier.bugLines().forEach(listing::println);
            listing.flush();
            return ExitCodes.OK;
        }
        if (soak != null) {
            return soak(listing);
        }
        if (given("--round-duration")) {
            throw new CliFailure(ExitCodes.USAGE, "--round-duration goes with --soak", null);
        }
        Verifier verifier = new Verifier(stdout, availabilityBounds());
        if (check != null) {
            if (!Files.isRegularFile(check)) {
                throw new CliFailure(ExitCodes.USAGE, "no such file: " + check, null);
            }
            try {
                return verifier.check(check);
            } catch (IllegalArgumentException e) {
                throw new CliFailure(ExitCodes.USAGE, "cannot read the history " + check + ": " + e.getMessage(), e);
            }
        }
        if (duration.isNegative() || duration.isZero()) {
            throw new CliFailure(ExitCodes.USAGE, "--duration must be positive", null);
        }
        if (clients < 2 || clients > 16) {
            throw new CliFailure(ExitCodes.USAGE, "--clients must be between 2 and 16", null);
        }
        long s = seed != null ? seed : System.nanoTime() & 0xFFFFFFL;
        try {
            return verifier.run(new Verifier.Options(scenario, duration, s, bug, clients, out));
        } catch (IllegalArgumentException e) {
            throw new CliFailure(ExitCodes.USAGE, e.getMessage(), e);
        }
    }

    private AvailabilityChecker.Bounds availabilityBounds() {
        try {
            return new AvailabilityChecker.Bounds(maxKillGap, maxHealGap);
        } catch (IllegalArgumentException e) {
            throw new CliFailure(ExitCodes.USAGE, "--max-kill-gap and --max-heal-gap must be positive", null);
        }
    }

    /** {@code --soak}: rounds until the duration has passed; SIGINT ends it after the totals so far. */
    private int soak(PrintWriter lines) throws Exception {
        for (String option : List.of("--scenario", "--bug", "--check", "--duration")) {
            if (given(option)) {
                throw new CliFailure(
                        ExitCodes.USAGE,
                        "--soak picks the scenario and seed of every round itself: it does not take " + option
                                + (option.equals("--duration") ? " (a round's length is --round-duration)" : ""),
                        null);
            }
        }
        if (soak.isNegative() || soak.isZero()) {
            throw new CliFailure(ExitCodes.USAGE, "--soak must be positive", null);
        }
        if (roundDuration.isNegative() || roundDuration.isZero()) {
            throw new CliFailure(ExitCodes.USAGE, "--round-duration must be positive", null);
        }
        if (clients < 2 || clients > 16) {
            throw new CliFailure(ExitCodes.USAGE, "--clients must be between 2 and 16", null);
        }
        long master = seed != null ? seed : System.nanoTime() & 0xFFFFFFL;
        Soak run = new Soak(lines, new Soak.Options(soak, roundDuration, master, clients, out, availabilityBounds()));
        // On SIGINT the JVM runs its shutdown hooks: this one stops the soak and holds the exit until
        // the totals are printed (the round under way is interrupted, its processes closed).
        Thread onSignal = new Thread(
                () -> {
                    run.stop();
                    try {
                        run.awaitEnd(SOAK_STOP_GRACE);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                },
                "holdfast-verify-soak-stop");
        Runtime.getRuntime().addShutdownHook(onSignal);
        try {
            return run.run();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(onSignal);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: it waits for the totals printed above
            }
        }
    }

    /** Whether the command line named {@code option} (not its default). */
    private boolean given(String option) {
        return spec.commandLine().getParseResult().hasMatchedOption(option);
    }
}
