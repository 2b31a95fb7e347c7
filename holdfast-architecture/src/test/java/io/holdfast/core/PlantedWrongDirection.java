package io.holdfast.core;

/**
 * Planted for {@code io.holdfast.architecture.ArchitectureTest}: a class in the lock table's package that
 * does what the table must not (reads the clock, reaches into the client runtime). Test sources
 * only; the architecture rules are shown to catch it.
 */
public final class PlantedWrongDirection {
    long now() {
        return System.nanoTime();
    }

    Object client() {
        return io.holdfast.client.internal.ClientRuntime.class;
    }
}
