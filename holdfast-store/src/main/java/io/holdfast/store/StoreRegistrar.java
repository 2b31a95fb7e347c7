package io.holdfast.store;

import io.holdfast.Lease;
import io.holdfast.SessionExpiredException;
import io.holdfast.Versioned;
import io.holdfast.lease.RegisterArguments;
import io.holdfast.lease.Registrar;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

/**
 * The register operations of a {@link StoreLockClient} over its backend's {@link StoreRegisters}:
 * each checks that the client is open, then asks the store; the asynchronous ones run on the
 * client's threads ({@code executor}), and fail with {@link SessionExpiredException} once it has
 * closed. The handle ({@code Handles.register}) checks everything before.
 */
record StoreRegistrar(StoreLockClient client, StoreRegisters store, Executor executor) implements Registrar {
    @Override
    public boolean isOwn(Lease lease) {
        return lease instanceof StoreLease l && l.client() == client;
    }

    @Override
    public Optional<Versioned> read(String key) {
        client.checkOpen();
        return store.read(key);
    }

    @Override
    public CompletableFuture<Optional<Versioned>> readAsync(String key) {
        return async(() -> read(key));
    }

    @Override
    public Versioned write(String key, long expectedVersion, byte[] value, Lease fence) {
        Grant grant = fence == null ? null : grantOf(fence);
        client.checkOpen();
        return store.write(key, expectedVersion, value, grant);
    }

    @Override
    public CompletableFuture<Versioned> writeAsync(String key, long expectedVersion, byte[] value) {
        return async(() -> write(key, expectedVersion, value, null));
    }

    /**
     * The grant behind a lease of this client, for a fenced write. A released or lost lease still
     * names its grant; the store then finds it no longer held.
     */
    private Grant grantOf(Lease fence) {
        if (isOwn(fence)) {
            return ((StoreLease) fence).grant();
        }
        throw RegisterArguments.foreignFence(fence);
    }

    /** Runs a register call on the client's threads. */
    private <T> CompletableFuture<T> async(Supplier<T> call) {
        try {
            client.checkOpen();
            return CompletableFuture.supplyAsync(call, executor);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(
                    e instanceof RejectedExecutionException ? new SessionExpiredException("the client was closed") : e);
        }
    }

    @Override
    public String toString() {
        return "registers of " + client;
    }
}
