package io.holdfast;

/**
 * Planted for {@code io.holdfast.architecture.ArchitectureTest}: a class of the public API that reaches into
 * an implementation (the lock table). Test sources only; the rules are shown to catch it.
 */
public final class PlantedWrongDirection {
    Object table() {
        return io.holdfast.core.LockTable.class;
    }
}
