package io.holdfast;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A small named value with a version that only grows: the optimistic half of "optimistic versus
 * pessimistic locking". Nobody waits: a writer states the version it read, and the write fails
 * with {@link ConflictException} if someone wrote in between. Callers re-read and retry.
 *
 * <p>A write can also be fenced by a lease: it succeeds only while that lease is the current
 * holder of its lock with the same fencing token, checked in the same atomic step as the write.
 *
 * <p>Values are at most {@link #MAX_VALUE_BYTES} bytes. Reads are linearizable where the provider
 * is: a read returns the latest acknowledged write.
 */
public interface VersionedRegister {
    /** The largest value accepted: 64 KiB. */
    int MAX_VALUE_BYTES = 64 * 1024;

    /** The register's name. */
    String key();

    /** The current value and version, or empty if never written. */
    Optional<Versioned> get();

    /**
     * Writes {@code value} if the current version is {@code expectedVersion} (0: the register must
     * be absent).
     *
     * @return the new value with its new version
     * @throws ConflictException if the version differs; nothing was written
     * @throws InvalidArgumentException if the value is too large or the version negative
     */
    Versioned compareAndSet(long expectedVersion, byte[] value);

    /**
     * Like {@link #compareAndSet(long, byte[])}, and only while {@code fence} is the current holder of
     * its lock with its fencing token.
     *
     * @throws ConflictException if the version differs or the fence is no longer current
     */
    Versioned compareAndSet(long expectedVersion, byte[] value, Lease fence);

    /** Asynchronous {@link #get()}. */
    CompletableFuture<Optional<Versioned>> getAsync();

    /** Asynchronous {@link #compareAndSet(long, byte[])}. */
    CompletableFuture<Versioned> compareAndSetAsync(long expectedVersion, byte[] value);
}
