package io.holdfast.client.internal;

import io.holdfast.Capability;
import io.holdfast.Lease;
import io.holdfast.Versioned;
import io.holdfast.VersionedRegister;
import io.holdfast.core.Command;
import io.holdfast.core.Reply;
import io.holdfast.lease.RegisterArguments;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** A versioned register of a {@link ClientRuntime}. */
final class RegisterHandle implements VersionedRegister {
    private final ClientRuntime rt;
    private final String key;

    RegisterHandle(ClientRuntime rt, String key) {
        this.rt = rt;
        this.key = key;
    }

    @Override
    public String key() {
        return key;
    }

    @Override
    public Optional<Versioned> get() {
        return Replies.join(read());
    }

    @Override
    public CompletableFuture<Optional<Versioned>> getAsync() {
        return rt.toCaller(read());
    }

    private CompletableFuture<Optional<Versioned>> read() {
        rt.requireCapability(Capability.REGISTERS, "versioned registers");
        return rt.query(t -> t.readRegister(key))
                .thenApply(value -> value.map(v -> new Versioned(key, v.version(), v.value())));
    }

    @Override
    public Versioned compareAndSet(long expectedVersion, byte[] value) {
        return Replies.join(write(expectedVersion, value, null, 0));
    }

    @Override
    public Versioned compareAndSet(long expectedVersion, byte[] value, Lease fence) {
        rt.requireCapability(Capability.FENCED_REGISTERS, "register writes fenced by a lease");
        if (!rt.isOwnLease(fence)) {
            // A write is fenced by the writer's own lock: a lease of another client would let this
            // client write while another holds the lock. Refused here, as the store providers do.
            throw RegisterArguments.foreignFence(fence);
        }
        return Replies.join(write(expectedVersion, value, fence.name(), fence.fencingToken()));
    }

    @Override
    public CompletableFuture<Versioned> compareAndSetAsync(long expectedVersion, byte[] value) {
        return rt.toCaller(write(expectedVersion, value, null, 0));
    }

    private CompletableFuture<Versioned> write(long expectedVersion, byte[] value, String fenceName, long token) {
        rt.requireCapability(Capability.REGISTERS, "versioned registers");
        byte[] copy = RegisterArguments.checkedCopy(expectedVersion, value);
        return rt.callOnce(inv -> new Command.RegisterSet(inv, key, expectedVersion, copy, fenceName, token))
                .thenApply(reply -> {
                    if (reply instanceof Reply.Written w) {
                        return new Versioned(key, w.version(), copy);
                    }
                    throw Replies.failure(reply);
                });
    }

    @Override
    public String toString() {
        return "VersionedRegister[" + key + "]";
    }
}
