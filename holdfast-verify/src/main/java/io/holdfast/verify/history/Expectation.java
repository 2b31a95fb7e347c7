package io.holdfast.verify.history;

/**
 * What a scenario's faults must be seen to do in a run, besides leaving no violation. A scenario
 * declares its expectations, the run's {@link Meta} records them, and the checker named on each
 * finds a run that does not show it INCONCLUSIVE (the fault did not bite, so what the scenario is
 * for went untested), never a pass. Checkers know expectations, never scenario names.
 */
public enum Expectation {
    /**
     * {@code fencing}: the fenced store refused a stale write, and the unfenced twin took one inside
     * another's section (a holder was paused past its lease inside its critical section).
     */
    STALE_WRITE_REFUSED,

    /**
     * {@code elections}: the fenced store refused a deposed leader's write, and an observer was told
     * of a leader.
     */
    DEPOSED_LEADER_REFUSED,

    /** {@code catch-up}: a restarted follower caught up through a snapshot sent by the leader. */
    SNAPSHOT_CATCH_UP,

    /**
     * {@code heal-catch-up}: every replica reaches the leader's commit index soon after each heal of
     * the network (measured; without this expectation the checker is skipped).
     */
    HEAL_CATCH_UP,

    /**
     * {@code interrupted-add}: an addition of a member interrupted by the leader's death completes
     * through the next leader (without this expectation the checker is skipped).
     */
    INTERRUPTED_ADD_COMPLETES,

    /**
     * {@code keys}: a fenced transfer between the accounts succeeded, both accounts were read at one
     * point, and a session's attached key was read after its put (what the scenario proves was
     * exercised; without this expectation the checker goes by what the run did).
     */
    KEYS_EXERCISED
}
