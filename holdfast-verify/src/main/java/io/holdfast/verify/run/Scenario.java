package io.holdfast.verify.run;

import java.util.Random;

/**
 * One named fault pattern: how many nodes, what the nemesis does while the workload runs, and what
 * the run must show besides zero violations.
 *
 * @param name the name on the command line
 * @param description one line for {@code --list-scenarios}
 * @param nodes 3 or 5
 * @param mustShowStaleWrites the fault must bite: at least one stale write refused by the fenced
 *     store (and an overlap in the unfenced twin), else the run is inconclusive, not a pass
 * @param nemesis what happens to the system while the workload runs
 */
record Scenario(String name, String description, int nodes, boolean mustShowStaleWrites, Nemesis nemesis) {

    /** The faults of a scenario, until {@code faults.running()} turns false. */
    @FunctionalInterface
    interface Nemesis {
        void run(Faults faults, Random random) throws java.io.IOException, InterruptedException;
    }
}
