package io.holdfast.verify.run;

import io.holdfast.verify.client.KeysWorkload;
import io.holdfast.verify.history.Expectation;
import java.util.ArrayList;
import java.util.List;
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
 * @param load what the workload workers do besides the plain locks, registers and semaphore
 * @param expects what a run must show happened (none for most scenarios)
 * @param nemesis what happens to the system while the workload runs
 */
record Scenario(
        String name, String description, int nodes, int members, Load load, Set<Expectation> expects, Nemesis nemesis) {

    Scenario {
        expects = Set.copyOf(expects);
    }

    /** A scenario whose every node is a member from the start and whose workload is the plain one. */
    Scenario(String name, String description, int nodes, Set<Expectation> expects, Nemesis nemesis) {
        this(name, description, nodes, nodes, Load.PLAIN, expects, nemesis);
    }

    /** A scenario whose every node is a member from the start and that expects nothing more. */
    Scenario(String name, String description, int nodes, Nemesis nemesis) {
        this(name, description, nodes, Set.of(), nemesis);
    }

    /** What the workload workers of a scenario do besides the plain workload. */
    enum Load {
        /** Locks, the read-write lock, the semaphore and the registers. */
        PLAIN,
        /** The plain workload and multi-locks of two locks ({@code --multi-locks}). */
        MULTI_LOCKS,
        /**
         * Elections instead ({@code --elections}): one observer per election on the first workers,
         * the workers' planted bug, and the final phase probes the elections' locks too.
         */
        ELECTIONS,
        /**
         * Keys instead ({@code --keys}, {@link io.holdfast.verify.client.KeysWorkload}): transfers
         * between two accounts in transactions, reads, short sessions with attached keys; the final
         * phase probes the workload's two locks too.
         */
        KEYS;

        /** What this load adds to the options of the worker with index {@code client} (from 0). */
        List<String> workerArgs(String bug, int client) {
            List<String> args = new ArrayList<>();
            if (this == MULTI_LOCKS) {
                args.add("--multi-locks");
            } else if (this == KEYS) {
                args.add("--keys");
            } else if (this == ELECTIONS) {
                args.add("--elections");
                if (client < Verifier.ELECTIONS.size()) {
                    args.add("--observe");
                    args.add(Verifier.ELECTIONS.get(client));
                }
                if (PlantedBugs.isClientBug(bug)) {
                    args.add("--bug");
                    args.add(bug);
                }
            }
            return args;
        }

        /** The load's own exclusive locks that the final phase records and probes as well. */
        List<String> probedNames() {
            return switch (this) {
                case ELECTIONS -> Verifier.ELECTIONS;
                case KEYS -> List.of(KeysWorkload.LOCK, KeysWorkload.MEMBERS_LOCK);
                default -> List.of();
            };
        }
    }

    /** The faults of a scenario, until {@code faults.running()} turns false. */
    @FunctionalInterface
    interface Nemesis {
        void run(Faults faults, Random random) throws java.io.IOException, InterruptedException;
    }
}
