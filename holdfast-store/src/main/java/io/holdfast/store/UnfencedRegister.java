package io.holdfast.store;

import io.holdfast.Capability;
import io.holdfast.Lease;
import io.holdfast.Versioned;
import io.holdfast.VersionedRegister;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** A register of a backend without {@link Capability#FENCED_REGISTERS}: fenced writes are refused. */
final class UnfencedRegister implements VersionedRegister {
    private final StoreLockClient client;
    private final VersionedRegister register;

    UnfencedRegister(StoreLockClient client, VersionedRegister register) {
        this.client = client;
        this.register = register;
    }

    @Override
    public String key() {
        return register.key();
    }

    @Override
    public Optional<Versioned> get() {
        return register.get();
    }

    @Override
    public Versioned compareAndSet(long expectedVersion, byte[] value) {
        return register.compareAndSet(expectedVersion, value);
    }

    @Override
    public Versioned compareAndSet(long expectedVersion, byte[] value, Lease fence) {
        client.require(Capability.FENCED_REGISTERS, "register writes fenced by a lease");
        return register.compareAndSet(expectedVersion, value, fence);
    }

    @Override
    public CompletableFuture<Optional<Versioned>> getAsync() {
        return register.getAsync();
    }

    @Override
    public CompletableFuture<Versioned> compareAndSetAsync(long expectedVersion, byte[] value) {
        return register.compareAndSetAsync(expectedVersion, value);
    }
}
