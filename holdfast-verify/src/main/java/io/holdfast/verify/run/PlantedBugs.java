package io.holdfast.verify.run;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The planted bugs the verifier knows, the scenario that must turn red with each
 * (docs/verification.md has the table), and which side of a run carries each: the nodes (the
 * constants of {@code PlantedBug}), the client workers ({@link #LEADER_IGNORES_LOSS}) or the harness
 * itself ({@link #SLOW_FAILOVER}).
 */
final class PlantedBugs {
    /**
     * The planted bug of the client workers (the election workload's leader ignores the end of its
     * leadership): not the nodes' ({@code PlantedBug}), so it goes to the workers.
     */
    static final String LEADER_IGNORES_LOSS = "leader-ignores-loss";

    private static final Set<String> CLIENT_BUGS = Set.of(LEADER_IGNORES_LOSS);

    /**
     * The planted bug of the harness itself: after each SIGKILL of the leader it holds every client's
     * bytes to and from the nodes for {@link Faults#PLANTED_FAILOVER_DELAY}, without recording it.
     * To the history that is a service that serves nobody for that long after losing its leader,
     * which the {@code availability} checker must catch; neither the nodes nor the workers know of it.
     */
    static final String SLOW_FAILOVER = "slow-failover";

    /** Planted bug → the scenario that must turn red with it. */
    private static final Map<String, String> EXPOSED_BY = new LinkedHashMap<>();

    static {
        EXPOSED_BY.put("grant-without-quorum", "leader-isolated-with-holder");
        EXPOSED_BY.put("token-from-term", "baseline");
        EXPOSED_BY.put("release-by-anyone", "baseline");
        EXPOSED_BY.put("skipped-wakeup", "baseline");
        EXPOSED_BY.put("grant-after-expiry", "client-paused");
        EXPOSED_BY.put("retry-applied-twice", "lost-replies");
        EXPOSED_BY.put("release-lost-on-step-down", "leader-transfer");
        EXPOSED_BY.put("sent-snapshot-ignored", "membership");
        EXPOSED_BY.put("multi-lock-partial-grant", "multi-lock");
        EXPOSED_BY.put(LEADER_IGNORES_LOSS, "election");
        EXPOSED_BY.put("stale-txn-compare", "keys");
        EXPOSED_BY.put(SLOW_FAILOVER, "leader-kill");
        EXPOSED_BY.put("follower-extends-ttl", "member-homes");
        EXPOSED_BY.put("rejoin-keeps-dead-session", "keys");
    }

    private PlantedBugs() {}

    /** The planted bugs that have an exposing scenario, in order. */
    static List<String> all() {
        return List.copyOf(EXPOSED_BY.keySet());
    }

    /** The scenario that must expose a planted bug. */
    static Optional<Scenario> exposing(String bug) {
        String name = EXPOSED_BY.get(bug);
        return name == null ? Optional.empty() : Scenarios.byName(name);
    }

    /** Whether a planted bug lives in the nodes (neither in the workers nor in the harness). */
    static boolean isNodeBug(String bug) {
        return bug != null && !CLIENT_BUGS.contains(bug) && !SLOW_FAILOVER.equals(bug);
    }

    /** Whether a planted bug lives in the client workers rather than in the nodes. */
    static boolean isClientBug(String bug) {
        return bug != null && CLIENT_BUGS.contains(bug);
    }
}
