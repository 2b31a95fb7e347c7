package io.holdfast.client;

/**
 * Planted for {@code io.holdfast.architecture.ArchitectureTest}: client code that reaches for the server's
 * side (the lock table, the JWT tokens of the endpoint), for a planted bug and for an OpenTelemetry
 * SDK (the application's choice, never the client's), and makes a thread of its own. Test sources only;
 * the rules are shown to catch it.
 */
public final class PlantedWrongDirection {
    Object table() {
        return io.holdfast.core.LockTable.class;
    }

    Object tokens() {
        return io.holdfast.endpoint.Tokens.class;
    }

    Object sdk() {
        return io.opentelemetry.sdk.trace.SdkTracerProvider.class;
    }

    Object bug() {
        return io.holdfast.core.PlantedBug.GRANT_WITHOUT_QUORUM;
    }

    Thread thread() {
        return new Thread(() -> {}, "planted");
    }
}
