package io.holdfast.protocol;

/**
 * Planted for {@code io.holdfast.architecture.ArchitectureTest}: the wire that clients carry reaching into
 * the serving side. Test sources only; the rules are shown to catch it.
 */
public final class PlantedWrongDirection {
    Object server() {
        return io.holdfast.endpoint.HoldfastGrpcService.class;
    }

    Object model() {
        return io.holdfast.model.PlantedWrongDirection.class;
    }
}
