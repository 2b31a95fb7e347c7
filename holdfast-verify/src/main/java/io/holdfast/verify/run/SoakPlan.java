package io.holdfast.verify.run;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * The rounds of a soak, drawn from one master seed: each round's scenario and the seed of its run.
 *
 * <p><b>Guarantees.</b> The same master seed and scenario list give the same rounds in the same
 * order, on any JDK ({@link Random}'s algorithm is specified), so a soak is replayed by its master
 * seed. Scenarios are dealt like cards: each pass through the list is a fresh random order, so the
 * first {@code n} rounds cover {@code min(n, scenarios)} different scenarios and no scenario waits
 * more than two passes. Seeds are drawn from 0 to 2<sup>32</sup>-1, so that a replay command stays
 * short.
 *
 * <p><b>Not guaranteed.</b> Distinct seeds: two rounds may draw the same one (about one chance in
 * 2<sup>32</sup> per pair), which the soak's total line shows as fewer distinct seeds than rounds.
 * Nor does a replayed soak run the same number of rounds: that depends on how long each took.
 *
 * <p>Failure story: a plan built from a list in another order (a scenario added in the middle)
 * deals other rounds for the same master seed; a soak's first line therefore names the seed and the
 * replay of a round names its scenario and seed outright, which stay valid.
 */
final class SoakPlan {
    private final Random master;
    private final List<String> scenarios;
    private final List<String> deck = new ArrayList<>();

    /** A plan over {@code scenarios} (names, in a fixed order), drawn from {@code masterSeed}. */
    SoakPlan(long masterSeed, List<String> scenarios) {
        if (scenarios.isEmpty()) {
            throw new IllegalArgumentException("a soak needs at least one scenario");
        }
        this.master = new Random(masterSeed);
        this.scenarios = List.copyOf(scenarios);
    }

    /** A plan over every scenario of {@link Scenarios#all()} (no planted bug). */
    static SoakPlan ofAllScenarios(long masterSeed) {
        return new SoakPlan(
                masterSeed, Scenarios.all().stream().map(Scenario::name).toList());
    }

    /** The scenarios this plan deals from. */
    List<String> scenarios() {
        return scenarios;
    }

    /** The next round, numbered {@code number}. */
    Round next(int number) {
        if (deck.isEmpty()) {
            deck.addAll(scenarios);
            Collections.shuffle(deck, master);
        }
        String scenario = deck.remove(deck.size() - 1);
        long seed = Integer.toUnsignedLong(master.nextInt());
        return new Round(number, scenario, seed, null);
    }

    /**
     * One round of a soak.
     *
     * @param number from 1
     * @param scenario the scenario's name; with a bug, the scenario that exposes it
     * @param seed the seed of the run
     * @param bug a planted bug (only a test plants one in a soak), or null
     */
    record Round(int number, String scenario, long seed, String bug) {
        /** The name of the round's directory: the scenario (with the bug) and the seed. */
        String dirName() {
            return scenario + (bug == null ? "" : "-" + bug) + "-" + seed;
        }

        /** The scenario and the bug, as the round's line shows them. */
        String label() {
            return bug == null ? scenario : scenario + "+" + bug;
        }

        /** The {@code holdfast verify} command that runs this round again on its own. */
        String replayCommand(Duration duration, int clients) {
            String what = bug == null ? "--scenario " + scenario : "--bug " + bug;
            return "holdfast verify " + what + " --duration " + Durations.format(duration) + " --seed " + seed
                    + " --clients " + clients;
        }
    }
}
