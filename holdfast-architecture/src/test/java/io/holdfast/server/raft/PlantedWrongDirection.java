package io.holdfast.server.raft;

/**
 * Planted for {@code io.holdfast.architecture.ArchitectureTest}: the state machine's room reaching up into
 * the node's service, a room above it, and reading the system's clock instead of the node's. Test
 * sources only; the rules are shown to catch it.
 */
public final class PlantedWrongDirection {
    Object parts() {
        return io.holdfast.server.node.NodeParts.class;
    }

    long now() {
        return System.currentTimeMillis();
    }
}
