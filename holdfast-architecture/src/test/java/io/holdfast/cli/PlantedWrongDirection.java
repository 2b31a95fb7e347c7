package io.holdfast.cli;

/**
 * Planted for {@code io.holdfast.architecture.ArchitectureTest}: a command of the CLI reaching past the
 * server's front doors into its state machine. Test sources only; the rule is shown to catch it.
 */
public final class PlantedWrongDirection {
    Object machine() {
        return io.holdfast.server.raft.LockStateMachine.class;
    }
}
