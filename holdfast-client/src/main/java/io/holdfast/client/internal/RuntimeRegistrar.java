package io.holdfast.client.internal;

import io.holdfast.Lease;
import io.holdfast.Versioned;
import io.holdfast.lease.Registrar;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The register operations of a {@link ClientRuntime}: a read is a query of the service, a write one
 * {@link RegisterSet} with its invocation. The handle ({@code Handles.register}) checks
 * everything before.
 */
final class RuntimeRegistrar implements Registrar {
    private final ClientRuntime rt;

    RuntimeRegistrar(ClientRuntime rt) {
        this.rt = rt;
    }

    @Override
    public boolean isOwn(Lease lease) {
        return rt.isOwnLease(lease);
    }

    @Override
    public Optional<Versioned> read(String key) {
        return Replies.join(reading(key));
    }

    @Override
    public CompletableFuture<Optional<Versioned>> readAsync(String key) {
        return rt.toCaller(reading(key));
    }

    @Override
    public Versioned write(String key, long expectedVersion, byte[] value, Lease fence) {
        return fence == null
                ? Replies.join(writing(key, expectedVersion, value, null, 0))
                : Replies.join(writing(key, expectedVersion, value, fence.name(), fence.fencingToken()));
    }

    @Override
    public CompletableFuture<Versioned> writeAsync(String key, long expectedVersion, byte[] value) {
        return rt.toCaller(writing(key, expectedVersion, value, null, 0));
    }

    private CompletableFuture<Optional<Versioned>> reading(String key) {
        return rt.query(t -> t.readRegister(key))
                .thenApply(value -> value.map(v -> new Versioned(key, v.version(), v.value())));
    }

    private CompletableFuture<Versioned> writing(
            String key, long expectedVersion, byte[] value, String fenceName, long token) {
        return rt.callOnce(inv -> RegisterSet.keeping(inv, key, expectedVersion, value, fenceName, token))
                .thenApply(reply -> {
                    if (reply instanceof Reply.Written w) {
                        return new Versioned(key, w.version(), value);
                    }
                    throw Replies.failure(reply);
                });
    }
}
