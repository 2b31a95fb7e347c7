package io.holdfast.verify.run;

import java.time.Duration;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the rounds of a soak added up to, and the one line per round and the total line that print
 * it. Not thread-safe: the soak's own thread adds to it.
 *
 * <p><b>Guarantees.</b> Every figure of the total line is the sum (or the distinct count) of the
 * rounds {@link #add added}, nothing else: an interrupted round is never added, so the totals of a
 * soak ended by Ctrl-C cover the rounds that ran to their verdict. A round fails unless its verdict
 * was PASS: a violation, an inconclusive check or a run that broke off all count as failed rounds,
 * as they make {@code holdfast verify} exit 1.
 *
 * <p>Failure story: a round whose checkers found nothing wrong but could not decide (a search out of
 * budget) shows 0 violations and INCONCLUSIVE, and is counted as a failed round with 0 violations
 * in the totals; the line says which, so that a reader does not take it for a pass or a bug.
 */
final class SoakTotals {
    private final int scenariosKnown;
    private int rounds;
    private long operations;
    private long faults;
    private long violations;
    private int failed;
    private final Set<Long> seeds = new HashSet<>();
    private final Set<String> scenarios = new TreeSet<>();

    /** Totals of a soak over {@code scenariosKnown} scenarios. */
    SoakTotals(int scenariosKnown) {
        this.scenariosKnown = scenariosKnown;
    }

    /** The verdict of one round. */
    enum Result {
        PASS,
        /** At least one violation. */
        FAIL,
        /** No violation, but a checker could not decide. */
        INCONCLUSIVE,
        /** The run broke off before its end. */
        BROKE_OFF;

        static Result of(Verifier.Outcome o) {
            if (o.violations() > 0) {
                return FAIL;
            }
            if (o.brokeOff() != null) {
                return BROKE_OFF;
            }
            return o.passed() ? PASS : INCONCLUSIVE;
        }

        @Override
        public String toString() {
            return name().replace('_', ' ');
        }
    }

    /** Adds a round that reached its verdict. @return its result */
    Result add(SoakPlan.Round round, Verifier.Outcome outcome) {
        Result result = Result.of(outcome);
        rounds++;
        operations += outcome.operations();
        faults += outcome.faults();
        violations += outcome.violations();
        if (result != Result.PASS) {
            failed++;
        }
        seeds.add(round.seed());
        scenarios.add(round.scenario());
        return result;
    }

    int rounds() {
        return rounds;
    }

    long operations() {
        return operations;
    }

    long faults() {
        return faults;
    }

    long violations() {
        return violations;
    }

    int failedRounds() {
        return failed;
    }

    int distinctSeeds() {
        return seeds.size();
    }

    /** The scenarios that ran, by name. */
    Set<String> scenariosCovered() {
        return Set.copyOf(scenarios);
    }

    /** The line of one round that reached its verdict; {@code kept} is its directory, if kept. */
    static String roundLine(SoakPlan.Round round, Verifier.Outcome outcome, Result result, Duration took, String kept) {
        return String.format(
                Locale.ROOT,
                "round %d  %-28s seed %-10d  %7d ops  %4d faults  %3d violations  %-12s %s%s",
                round.number(),
                round.label(),
                round.seed(),
                outcome.operations(),
                outcome.faults(),
                outcome.violations(),
                result,
                seconds(took),
                kept == null ? "" : "  kept " + kept);
    }

    /** The total line: every figure of the rounds added, and how long the soak ran. */
    String totalLine(Duration took) {
        return String.format(
                Locale.ROOT,
                "soak: %d rounds, %d ops, %d faults, %d distinct seeds, %d of %d scenarios covered, %d violations,"
                        + " %d failed rounds, %s",
                rounds,
                operations,
                faults,
                seeds.size(),
                scenarios.size(),
                scenariosKnown,
                violations,
                failed,
                seconds(took));
    }

    /** {@code 41.2s}, or {@code 12m03.5s} past a minute. */
    static String seconds(Duration d) {
        long tenths = d.toMillis() / 100;
        long minutes = tenths / 600;
        double rest = (tenths % 600) / 10.0;
        return minutes == 0
                ? String.format(Locale.ROOT, "%.1fs", rest)
                : String.format(Locale.ROOT, "%dm%04.1fs", minutes, rest);
    }
}
