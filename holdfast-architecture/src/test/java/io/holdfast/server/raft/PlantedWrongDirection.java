package io.holdfast.server.raft;

/**
 * Planted for {@code io.holdfast.architecture.ArchitectureTest}: the state machine's room reaching up into
 * the node's service, a room above it. Test sources only; the rule is shown to catch it.
 */
public final class PlantedWrongDirection {
    Object parts() {
        return io.holdfast.server.node.NodeParts.class;
    }
}
