package io.holdfast.spi;

import io.holdfast.ClientOptions;
import io.holdfast.LockClient;

/**
 * A provider of {@link LockClient}s for one kind of URI, found with {@link java.util.ServiceLoader}:
 * list the implementation in {@code META-INF/services/io.holdfast.spi.LockProvider}.
 *
 * <p>A provider must pass the contract suite in {@code holdfast-testkit} for the capabilities it
 * declares, and must throw {@link io.holdfast.UnsupportedFeatureException} for the rest.
 */
public interface LockProvider {
    /** A short name for messages, such as {@code mem} or {@code redis}. */
    String name();

    /** Whether this provider handles the URI (usually by its scheme). Must not do I/O. */
    boolean accepts(String uri);

    /**
     * Opens a client.
     *
     * @throws io.holdfast.InvalidArgumentException if the URI is malformed
     * @throws io.holdfast.UnavailableException if the service or store cannot be reached
     */
    LockClient open(String uri, ClientOptions options);
}
