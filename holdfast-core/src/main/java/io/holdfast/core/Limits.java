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

    /** Longest key (and lock name), in bytes of UTF-8. */
    public static final int MAX_KEY_BYTES = io.holdfast.Names.MAX_NAME_BYTES;

    /**
     * Most keys one session may own ({@link Command.RegisterSet#attach()}): a write that would
     * attach one more is refused with {@code QUOTA_EXCEEDED}, naming {@code keys-per-session}.
     * The bytes of all values together are bounded by the {@code register-bytes} quota.
     */
    public static final int MAX_KEYS_PER_SESSION = 10_000;

    /** Shortest and longest time to live of a key, in milliseconds (one second; thirty days). */
    public static final long MIN_KEY_TTL_MILLIS = 1_000;

    public static final long MAX_KEY_TTL_MILLIS = 30L * 24 * 3600 * 1000;

    /**
     * Most compares of one {@link Command.Transaction}, and most ops of each of its branches
     * ({@code txn-ops}).
     */
    public static final int MAX_TXN_OPS = 128;

    /**
     * Most bytes of keys (UTF-8) and values one {@link Command.Transaction} carries in its
     * compares and both branches together ({@code txn-bytes}).
     */
    public static final int MAX_TXN_BYTES = 256 * 1024;

    /** Most keys one listing page answers ({@code LockTable#keys}). */
    public static final int MAX_KEY_PAGE = 1_000;

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
