package io.holdfast.verify.run;

import io.holdfast.verify.check.AvailabilityChecker;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;

/**
 * A soak: rounds of verification one after the other until a duration has passed, each a random
 * scenario with a random seed drawn from one master seed ({@code SoakPlan}), every checker on. The
 * engine behind {@code holdfast verify --soak}.
 *
 * <p><b>What it prints.</b> A first line with the master seed and the command that replays the whole
 * soak; one line per round (number, scenario, seed, operations, faults injected, violations, result,
 * time, and the directory when it is kept), and under a round that broke off a line saying why (a
 * node that would not start, say), under a round that failed a line per checker that did not pass
 * with its first violations (so that a CI log says why); and a total line at the end (rounds, operations, faults,
 * distinct seeds, scenarios covered, violations, failed rounds). Each round's own report (the
 * summary and every checker's result, as {@code holdfast verify} prints them) goes to {@code
 * report.txt} in the round's directory.
 *
 * <p><b>Guarantees.</b> {@link #run()} returns 0 only if at least one round ran to its verdict and
 * every round passed; a violation, an inconclusive check or a run that broke off returns 1. A round
 * that did not pass keeps its directory under the output directory, named by scenario and seed,
 * with the record of the run and {@code replay.txt}, the {@code holdfast verify} command that runs
 * it again; a passed round's directory is deleted once its processes have exited. A round starts
 * only while the duration has not passed, so the last one ends up to a round's length (and its
 * start-up and checking) after it. {@link #stop()} (the CLI calls it on SIGINT) interrupts the round
 * under way, which is then neither counted nor judged (its directory is kept as it was), and the
 * total line is printed for the rounds before it. The first round always starts, however short the
 * duration.
 *
 * <p><b>Not guaranteed.</b> That a replayed round shows the same history: the seed fixes the
 * workload and the fault schedule, not thread timing (docs/verification.md). Nor that every
 * scenario runs: a soak shorter than one pass through the scenarios covers only some of them, which
 * the total line says.
 *
 * <p>Failure story: the disk fills during a long soak; writing a round's directory throws, the total
 * line is still printed for the rounds so far, and the exception ends the soak with its cause.
 */
public final class Soak {
    /** How much of one finding a round's line carries: a checker's first violations, not a page of them. */
    private static final int FINDING_CHARS = 600;

    /**
     * What to soak.
     *
     * @param duration how long to start new rounds (positive)
     * @param roundDuration how long the faults of each round run (positive), as {@code --duration}
     * @param masterSeed the seed every round's scenario and seed are drawn from
     * @param clients ordinary client processes per round (an intruder comes on top)
     * @param outDir where the directories of rounds that did not pass are kept
     * @param bounds the availability checker's bounds for every round
     */
    public record Options(
            Duration duration,
            Duration roundDuration,
            long masterSeed,
            int clients,
            Path outDir,
            AvailabilityChecker.Bounds bounds) {
        /** Options holding every round to the availability bounds of a quiet machine. */
        public Options(Duration duration, Duration roundDuration, long masterSeed, int clients, Path outDir) {
            this(duration, roundDuration, masterSeed, clients, outDir, AvailabilityChecker.Bounds.QUIET);
        }

        public Options {
            if (duration.isNegative() || duration.isZero()) {
                throw new IllegalArgumentException("--soak must be positive, not " + Durations.format(duration));
            }
            if (roundDuration.isNegative() || roundDuration.isZero()) {
                throw new IllegalArgumentException(
                        "--round-duration must be positive, not " + Durations.format(roundDuration));
            }
        }
    }

    /** Runs one round in its directory and says what it showed. */
    @FunctionalInterface
    interface Runner {
        Verifier.Outcome run(SoakPlan.Round round, Path dir) throws IOException, InterruptedException;
    }

    private final PrintWriter out;
    private final Options options;
    private final LongSupplier nanoTime;
    private final IntFunction<SoakPlan.Round> rounds;
    private final Runner runner;
    private final int scenariosKnown;
    private final CountDownLatch ended = new CountDownLatch(1);
    private final Object lock = new Object();
    private boolean stopped;
    private Thread inRound;

    /** A soak of every scenario through the real harness, timed by {@link System#nanoTime()}. */
    public Soak(PrintWriter out, Options options) {
        this(
                out,
                options,
                System::nanoTime,
                SoakPlan.ofAllScenarios(options.masterSeed())::next,
                Scenarios.all().size(),
                verifierRunner(options));
    }

    /**
     * A soak whose rounds come from {@code rounds} (by number, from 1) and run through {@code runner},
     * timed by {@code nanoTime}.
     */
    Soak(
            PrintWriter out,
            Options options,
            LongSupplier nanoTime,
            IntFunction<SoakPlan.Round> rounds,
            int scenariosKnown,
            Runner runner) {
        this.out = out;
        this.options = options;
        this.nanoTime = nanoTime;
        this.rounds = rounds;
        this.scenariosKnown = scenariosKnown;
        this.runner = runner;
    }

    /**
     * Runs rounds until the duration has passed or {@link #stop()} is called, and prints the total
     * line in either case (also when an exception ends the soak).
     *
     * @return 0 if at least one round ran to its verdict and every one passed, 1 otherwise
     * @throws IOException if a round's directory cannot be written
     * @throws InterruptedException if this thread was interrupted other than by {@link #stop()}
     */
    public int run() throws IOException, InterruptedException {
        long start = nanoTime.getAsLong();
        SoakTotals totals = new SoakTotals(scenariosKnown);
        try {
            Files.createDirectories(options.outDir());
            out.printf(
                    "soak: %s in rounds of %s, master seed %d; failed rounds are kept in %s (this soak again:"
                            + " holdfast verify --soak %s --round-duration %s --seed %d --clients %d%s)%n",
                    Durations.format(options.duration()),
                    Durations.format(options.roundDuration()),
                    options.masterSeed(),
                    options.outDir(),
                    Durations.format(options.duration()),
                    Durations.format(options.roundDuration()),
                    options.masterSeed(),
                    options.clients(),
                    boundsOptions());
            out.flush();
            for (int n = 1;
                    n == 1 || nanoTime.getAsLong() - start < options.duration().toNanos();
                    n++) {
                if (!playRound(rounds.apply(n), totals)) {
                    break;
                }
            }
        } finally {
            out.println(totals.totalLine(Duration.ofNanos(nanoTime.getAsLong() - start)));
            out.flush();
            ended.countDown();
        }
        return totals.rounds() > 0 && totals.failedRounds() == 0 ? 0 : 1;
    }

    /** The availability bounds as options, for a command that runs the same again; none for the defaults. */
    private String boundsOptions() {
        AvailabilityChecker.Bounds b = options.bounds();
        return b.equals(AvailabilityChecker.Bounds.QUIET)
                ? ""
                : " --max-kill-gap " + Durations.format(b.kill()) + " --max-heal-gap " + Durations.format(b.heal());
    }

    /** Runs and reports one round. @return false if the soak was stopped */
    private boolean playRound(SoakPlan.Round round, SoakTotals totals) throws IOException, InterruptedException {
        Path dir = freshDirectory(round);
        Files.writeString(
                dir.resolve("replay.txt"),
                round.replayCommand(options.roundDuration(), options.clients())
                        + boundsOptions()
                        + System.lineSeparator(),
                StandardCharsets.UTF_8);
        long started = nanoTime.getAsLong();
        Verifier.Outcome outcome;
        try {
            synchronized (lock) {
                if (stopped) {
                    deleteTree(dir);
                    return false;
                }
                inRound = Thread.currentThread();
            }
            outcome = runner.run(round, dir);
        } catch (InterruptedException e) {
            if (!isStopped()) {
                throw e;
            }
            outcome = null;
        } finally {
            synchronized (lock) {
                inRound = null;
                if (stopped) {
                    Thread.interrupted(); // a stop that came as the round ended: it is over, not this thread
                }
            }
        }
        Duration took = Duration.ofNanos(nanoTime.getAsLong() - started);
        if (isStopped()) {
            out.printf(
                    "round %d  %s seed %d: stopped after %s; not counted (its directory: %s)%n",
                    round.number(), round.label(), round.seed(), SoakTotals.seconds(took), dir);
            return false;
        }
        SoakTotals.Result result = totals.add(round, outcome);
        String kept = null;
        if (result == SoakTotals.Result.PASS) {
            deleteTree(dir);
        } else {
            kept = dir.toString();
        }
        out.println(SoakTotals.roundLine(round, outcome, result, took, kept));
        if (result == SoakTotals.Result.BROKE_OFF) {
            out.println("         broke off: " + outcome.brokeOff()); // its report is in the directory kept
        }
        if (result != SoakTotals.Result.PASS) {
            for (String finding : outcome.findings()) { // the report in the directory kept has them all
                out.println("         " + clip(finding, FINDING_CHARS));
            }
        }
        out.flush();
        return true;
    }

    /**
     * Ends the soak: the round under way is interrupted and not counted, no other starts, and {@link
     * #run()} prints the total line and returns. Safe from any thread, any number of times.
     */
    public void stop() {
        synchronized (lock) {
            stopped = true;
            if (inRound != null) {
                inRound.interrupt();
            }
        }
    }

    /**
     * Waits until {@link #run()} has printed its total line, at most {@code timeout}.
     *
     * @return whether it has
     */
    public boolean awaitEnd(Duration timeout) throws InterruptedException {
        return ended.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    private boolean isStopped() {
        synchronized (lock) {
            return stopped;
        }
    }

    /** The round's directory, named by scenario and seed; a suffix if a soak before left one. */
    private Path freshDirectory(SoakPlan.Round round) throws IOException {
        Path dir = options.outDir().resolve(round.dirName());
        for (int i = 2; Files.exists(dir); i++) {
            dir = options.outDir().resolve(round.dirName() + "-" + i);
        }
        return Files.createDirectories(dir);
    }

    private static String clip(String line, int max) {
        return line.length() <= max ? line : line.substring(0, max) + " …";
    }

    /** Deletes a directory and everything in it; files that vanish meanwhile are no error. */
    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null && !(e instanceof NoSuchFileException)) {
                    throw e;
                }
                Files.deleteIfExists(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /**
     * Runs a round through {@link Verifier}, its report into {@code report.txt}, and returns once the
     * round's processes have exited (so that its directory can be deleted).
     */
    static Runner verifierRunner(Options options) {
        Verifier.useClassArchives(options.outDir());
        return (round, dir) -> {
            Scenario s = round.bug() == null
                    ? Scenarios.byName(round.scenario())
                            .orElseThrow(() -> new IllegalArgumentException("unknown scenario " + round.scenario()))
                    : PlantedBugs.exposing(round.bug())
                            .orElseThrow(() -> new IllegalArgumentException("unknown bug " + round.bug()));
            Verifier.Options o = new Verifier.Options(
                    s.name(), options.roundDuration(), round.seed(), round.bug(), options.clients(), options.outDir());
            // a FileOutputStream, not a channel: an interrupt (a stop) must not close it under the report
            try (PrintStream report = new PrintStream(
                    new FileOutputStream(dir.resolve("report.txt").toFile()), true, StandardCharsets.UTF_8)) {
                return new Verifier(report, options.bounds()).runIn(s, o, dir);
            } finally {
                Child.awaitBackgroundCloses();
            }
        };
    }
}
