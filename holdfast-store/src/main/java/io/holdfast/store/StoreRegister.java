package io.holdfast.store;

import io.holdfast.Capability;
import io.holdfast.Lease;
import io.holdfast.Versioned;
import io.holdfast.VersionedRegister;
import io.holdfast.lease.RegisterArguments;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * A {@link VersionedRegister} over a backend's {@link StoreRegisters}: the arguments, the fence
 * and the client's state are checked here, once for every store, before the store is touched.
 */
final class StoreRegister implements VersionedRegister {
    private final StoreLockClient client;
    private final StoreRegisters store;
    private final String key;

    StoreRegister(StoreLockClient client, StoreRegisters store, String key) {
        this.client = client;
        this.store = store;
        this.key = key;
    }

    @Override
    public String key() {
        return key;
    }

    @Override
    public Optional<Versioned> get() {
        client.checkOpen();
        return store.read(key);
    }

    @Override
    public Versioned compareAndSet(long expectedVersion, byte[] value) {
        byte[] copy = check(expectedVersion, value);
        client.checkOpen();
        return store.write(key, expectedVersion, copy, null);
    }

    @Override
    public Versioned compareAndSet(long expectedVersion, byte[] value, Lease fence) {
        client.require(Capability.FENCED_REGISTERS, "register writes fenced by a lease");
        byte[] copy = check(expectedVersion, value);
        Grant grant = client.grantOf(fence);
        client.checkOpen();
        return store.write(key, expectedVersion, copy, grant);
    }

    @Override
    public CompletableFuture<Optional<Versioned>> getAsync() {
        return client.async(this::get);
    }

    @Override
    public CompletableFuture<Versioned> compareAndSetAsync(long expectedVersion, byte[] value) {
        byte[] copy;
        try {
            copy = check(expectedVersion, value);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        Supplier<Versioned> write = () -> {
            client.checkOpen();
            return store.write(key, expectedVersion, copy, null);
        };
        return client.async(write);
    }

    /** The value, copied so that the caller's later changes cannot reach the store. */
    private static byte[] check(long expectedVersion, byte[] value) {
        return RegisterArguments.checkedCopy(expectedVersion, value);
    }

    @Override
    public String toString() {
        return "register " + key + " of " + client;
    }
}
