package io.holdfast.redis;

/**
 * Planted for {@code io.holdfast.architecture.ArchitectureTest}: a store provider that reaches into the
 * lock service's server and its lock table. Test sources only; the rules are shown to catch it.
 */
public final class PlantedWrongDirection {
    Object server() {
        return io.holdfast.server.HoldfastServer.class;
    }

    Object table() {
        return io.holdfast.core.LockTable.class;
    }

    /** Planted for the rule that keeps test hooks in tests: a main class simulating a crash. */
    void strandsItsLocks(io.holdfast.LockClient client) {
        io.holdfast.internal.CrashSimulation.crash(client);
    }
}
