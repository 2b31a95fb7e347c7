package io.holdfast.lease;

/**
 * Planted for {@code io.holdfast.architecture.ArchitectureTest}: the shared lease machinery reaching into one
 * of its engines (the store support). Test sources only; the rules are shown to catch it.
 */
public final class PlantedWrongDirection {
    Object engine() {
        return io.holdfast.store.StoreLockClient.class;
    }
}
