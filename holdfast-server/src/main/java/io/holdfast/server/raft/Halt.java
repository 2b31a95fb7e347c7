package io.holdfast.server.raft;

/**
 * Thrown out of {@link LockStateMachine#applyTransaction} to stop this replica: the only exception
 * that leaves it. The entry holds a command of a kind this build cannot read (a newer build's
 * leader logged it), and applying the rest of the entry would make this replica differ from those
 * that can; Ratis closes the division on it, with the applied index below the entry.
 */
final class Halt extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    Halt(String reason) {
        super(reason);
    }
}
