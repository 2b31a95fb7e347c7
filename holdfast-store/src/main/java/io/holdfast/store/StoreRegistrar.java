package io.holdfast.store;

import io.holdfast.Lease;
import io.holdfast.Versioned;
import io.holdfast.lease.Registrar;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The register operations of a {@link StoreLockClient} over its backend's {@link StoreRegisters}:
 * each checks that the client is open, then asks the store; the asynchronous ones run on the
 * client's threads. The handle ({@code Handles.register}) checks everything before.
 */
record StoreRegistrar(StoreLockClient client, StoreRegisters store) implements Registrar {
    @Override
    public boolean isOwn(Lease lease) {
        return client.owns(lease);
    }

    @Override
    public Optional<Versioned> read(String key) {
        client.checkOpen();
        return store.read(key);
    }

    @Override
    public CompletableFuture<Optional<Versioned>> readAsync(String key) {
        return client.async(() -> read(key));
    }

    @Override
    public Versioned write(String key, long expectedVersion, byte[] value, Lease fence) {
        Grant grant = fence == null ? null : client.grantOf(fence);
        client.checkOpen();
        return store.write(key, expectedVersion, value, grant);
    }

    @Override
    public CompletableFuture<Versioned> writeAsync(String key, long expectedVersion, byte[] value) {
        return client.async(() -> write(key, expectedVersion, value, null));
    }

    @Override
    public String toString() {
        return "registers of " + client;
    }
}
