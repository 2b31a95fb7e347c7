package io.holdfast.model;

/**
 * Planted for {@code io.holdfast.architecture.ArchitectureTest}: the shared model reaching into the lock
 * table, and into the wire that depends on it (a cycle between packages). Test sources only; the
 * rules are shown to catch it.
 */
public final class PlantedWrongDirection {
    Object table() {
        return io.holdfast.core.LockTable.class;
    }

    Object wire() {
        return io.holdfast.protocol.PlantedWrongDirection.class;
    }
}
