package io.holdfast.redis;

/**
 * Planted for {@code io.holdfast.it.ArchitectureTest}: a store provider that reaches into the
 * lock service's server and its lock table. Test sources only; the rules are shown to catch it.
 */
public final class PlantedWrongDirection {
    Object server() {
        return io.holdfast.server.HoldfastServer.class;
    }

    Object table() {
        return io.holdfast.core.LockTable.class;
    }
}
