package io.holdfast.core;

import io.holdfast.model.Command;

/** The bounds that {@link LockTable} enforces on every command. */
public final class Limits {
    /** Shortest and longest session TTL, in milliseconds. */
    public static final long MIN_TTL_MILLIS = 1_000;

    public static final long MAX_TTL_MILLIS = 600_000;

    /** Longest lock-delay, in milliseconds. */
    public static final long MAX_LOCK_DELAY_MILLIS = 60_000;

    /** Longest wait and lease timeout, in milliseconds (one day). */
    public static final long MAX_WAIT_MILLIS = io.holdfast.AcquireOptions.MAX_DURATION.toMillis();

    /** Shortest lease timeout, in milliseconds. */
    public static final long MIN_LEASE_MILLIS = io.holdfast.AcquireOptions.MIN_LEASE_TIMEOUT.toMillis();

    /** Most permits a semaphore may have. */
    public static final int MAX_PERMITS = io.holdfast.DistributedSemaphore.MAX_PERMITS;

    /** Most names one multi-lock ({@link Command.AcquireAll}) may take. */
    public static final int MAX_MULTI_NAMES = io.holdfast.DistributedMultiLock.MAX_NAMES;

    /** Largest register value, in bytes. */
    public static final int MAX_VALUE_BYTES = io.holdfast.VersionedRegister.MAX_VALUE_BYTES;

    /** Longest client name, in characters. */
    public static final int MAX_CLIENT_NAME = 256;

    /** Session ids: this many characters at least and at most, from [A-Za-z0-9_-]. */
    public static final int MIN_SESSION_ID = io.holdfast.model.SessionIds.MIN_LENGTH;

    public static final int MAX_SESSION_ID = io.holdfast.model.SessionIds.MAX_LENGTH;

    private Limits() {}

    /** Refuses {@code value} outside {@code min..max} with an {@link io.holdfast.InvalidArgumentException}. */
    static void checkRange(String what, long value, long min, long max) {
        if (value < min || value > max) {
            throw new io.holdfast.InvalidArgumentException(
                    what + " must be between " + min + " and " + max + ", not " + value);
        }
    }
}
