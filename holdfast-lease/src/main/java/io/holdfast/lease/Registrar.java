package io.holdfast.lease;

import io.holdfast.Capability;
import io.holdfast.Lease;
import io.holdfast.Versioned;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The register operations of an engine (whose name and capabilities are its {@link Acquirer}'s),
 * which the handle of {@link Handles#register} calls after
 * it has checked everything the public API promises to check: the key (when the handle was made),
 * {@link Capability#REGISTERS} (then too), {@link Capability#FENCED_REGISTERS} for a fenced write,
 * the value and the expected version ({@link RegisterArguments}), and that a fence is a lease of
 * this engine ({@link #isOwn}). A registrar may therefore trust its arguments; the value it is
 * given is the handle's own copy.
 *
 * <p><b>What a registrar must guarantee</b>: the outcomes of {@link io.holdfast.VersionedRegister}
 * (a conflict is {@link io.holdfast.ConflictException} with the current version, a fenced write
 * whose lease is no longer current is refused, nothing is written twice by one call). <b>Failure
 * story</b>: the engine's client was closed; each operation fails with {@link
 * io.holdfast.SessionExpiredException} (the asynchronous ones through their future).
 */
public interface Registrar {
    /** Whether {@code lease} is a lease of this engine's client (only those fence its writes). */
    boolean isOwn(Lease lease);

    /** The register's value and version, or empty if it was never written. */
    Optional<Versioned> read(String key);

    /** {@link #read}, asynchronously. */
    CompletableFuture<Optional<Versioned>> readAsync(String key);

    /**
     * Writes {@code value} if the register's version is {@code expectedVersion}.
     *
     * @param fence null, or a lease of this engine ({@link #isOwn}) that must still be current
     */
    Versioned write(String key, long expectedVersion, byte[] value, Lease fence);

    /** An unfenced {@link #write}, asynchronously. */
    CompletableFuture<Versioned> writeAsync(String key, long expectedVersion, byte[] value);
}
