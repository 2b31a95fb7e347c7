package io.holdfast.client;

/**
 * Planted for {@code io.holdfast.it.ArchitectureTest}: client code that reaches for the server's
 * side (the lock table, the JWT tokens of the endpoint) and for a planted bug, and makes a thread
 * of its own. Test sources only;
 * the rules are shown to catch it.
 */
public final class PlantedWrongDirection {
    Object table() {
        return io.holdfast.core.LockTable.class;
    }

    Object tokens() {
        return io.holdfast.endpoint.Tokens.class;
    }

    Object bug() {
        return io.holdfast.core.PlantedBug.GRANT_WITHOUT_QUORUM;
    }

    Thread thread() {
        return new Thread(() -> {}, "planted");
    }
}
