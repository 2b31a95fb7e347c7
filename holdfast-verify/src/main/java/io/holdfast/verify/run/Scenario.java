package io.holdfast.verify.run;

import io.holdfast.verify.history.Expectation;
import java.util.Random;
import java.util.Set;

/**
 * One named fault pattern: how many nodes, what the nemesis does while the workload runs, and what
 * its faults must be seen to do besides leaving no violation (its expectations, which the run's
 * records carry to the checkers: a run that does not show one is inconclusive).
 *
 * @param name the name on the command line
 * @param description one line for {@code --list-scenarios}
 * @param nodes 3 or 5: the node slots
 * @param members how many of them form the cluster at the start (the others are spares that a
 *     scenario may add with a change of the members)
 * @param expects what a run must show happened (none for most scenarios)
 * @param nemesis what happens to the system while the workload runs
 */
record Scenario(String name, String description, int nodes, int members, Set<Expectation> expects, Nemesis nemesis) {

    Scenario {
        expects = Set.copyOf(expects);
    }

    /** A scenario whose every node is a member from the start. */
    Scenario(String name, String description, int nodes, Set<Expectation> expects, Nemesis nemesis) {
        this(name, description, nodes, nodes, expects, nemesis);
    }

    /** A scenario whose every node is a member from the start and that expects nothing more. */
    Scenario(String name, String description, int nodes, Nemesis nemesis) {
        this(name, description, nodes, Set.of(), nemesis);
    }

    /** The faults of a scenario, until {@code faults.running()} turns false. */
    @FunctionalInterface
    interface Nemesis {
        void run(Faults faults, Random random) throws java.io.IOException, InterruptedException;
    }
}
