package io.holdfast.verify.run;

import java.util.Random;

/**
 * One named fault pattern: how many nodes, and what the nemesis does while the workload runs.
 * (What a scenario must show besides zero violations, such as a stale write refused, is the
 * checkers' business: see {@code FencingChecker#STALE_WRITE_SCENARIOS}.)
 *
 * @param name the name on the command line
 * @param description one line for {@code --list-scenarios}
 * @param nodes 3 or 5: the node slots
 * @param members how many of them form the cluster at the start (the others are spares that a
 *     scenario may add with a change of the members)
 * @param nemesis what happens to the system while the workload runs
 */
record Scenario(String name, String description, int nodes, int members, Nemesis nemesis) {

    /** A scenario whose every node is a member from the start. */
    Scenario(String name, String description, int nodes, Nemesis nemesis) {
        this(name, description, nodes, nodes, nemesis);
    }

    /** The faults of a scenario, until {@code faults.running()} turns false. */
    @FunctionalInterface
    interface Nemesis {
        void run(Faults faults, Random random) throws java.io.IOException, InterruptedException;
    }
}
