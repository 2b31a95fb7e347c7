package io.holdfast.lease;

import io.holdfast.InvalidArgumentException;
import io.holdfast.VersionedRegister;

/**
 * The checks of a register write's arguments, the same for every engine (the client runtime and
 * the store providers), made before anything reaches the service or the store.
 */
public final class RegisterArguments {
    private RegisterArguments() {}

    /**
     * Checks a compare-and-set's arguments and copies the value, so that the caller's later
     * changes to its array cannot reach the store.
     *
     * @throws InvalidArgumentException if the value is null or larger than {@link
     *     VersionedRegister#MAX_VALUE_BYTES}, or the expected version is negative
     */
    public static byte[] checkedCopy(long expectedVersion, byte[] value) {
        if (value == null) {
            throw new InvalidArgumentException("a register's value must not be null");
        }
        if (value.length > VersionedRegister.MAX_VALUE_BYTES) {
            throw new InvalidArgumentException(
                    "the value is " + value.length + " bytes; the limit is " + VersionedRegister.MAX_VALUE_BYTES);
        }
        if (expectedVersion < 0) {
            throw new InvalidArgumentException("the expected version must not be negative: " + expectedVersion);
        }
        return value.clone();
    }

    /** The refusal of a fence that is not a lease of the writing client. */
    public static InvalidArgumentException foreignFence(Object fence) {
        return new InvalidArgumentException(
                fence == null
                        ? "a fenced write needs a lease"
                        : "a fenced write needs a lease of this client, not " + fence);
    }
}
