package io.holdfast.core;

import io.holdfast.AcquireOptions;
import io.holdfast.ClientOptions;
import io.holdfast.DistributedMultiLock;
import io.holdfast.DistributedSemaphore;
import io.holdfast.Keys;
import io.holdfast.Names;
import io.holdfast.VersionedRegister;
import io.holdfast.model.Command;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.SessionIds;
import io.holdfast.model.Transaction;

/**
 * The bounds that {@link LockTable} enforces on every command, in the table's units. None has its
 * value here: a bound a client can meet is defined once, in the API (and {@code
 * clients/vectors/limits.json} holds the same values for the clients in other languages, whose
 * tests and the API's read it); the bounds of session ids are the model's ({@link SessionIds}).
 */
public final class Limits {
    /** Shortest and longest session TTL, in milliseconds. */
    public static final long MIN_TTL_MILLIS = ClientOptions.MIN_SESSION_TTL.toMillis();

    public static final long MAX_TTL_MILLIS = ClientOptions.MAX_SESSION_TTL.toMillis();

    /** Longest lock-delay, in milliseconds. */
    public static final long MAX_LOCK_DELAY_MILLIS = ClientOptions.MAX_LOCK_DELAY.toMillis();

    /** Longest wait and lease timeout, in milliseconds (one day). */
    public static final long MAX_WAIT_MILLIS = AcquireOptions.MAX_DURATION.toMillis();

    /** Shortest lease timeout, in milliseconds. */
    public static final long MIN_LEASE_MILLIS = AcquireOptions.MIN_LEASE_TIMEOUT.toMillis();

    /** Most permits a semaphore may have. */
    public static final int MAX_PERMITS = DistributedSemaphore.MAX_PERMITS;

    /** Most names one multi-lock ({@link Command.AcquireAll}) may take. */
    public static final int MAX_MULTI_NAMES = DistributedMultiLock.MAX_NAMES;

    /** Largest register value, in bytes. */
    public static final int MAX_VALUE_BYTES = VersionedRegister.MAX_VALUE_BYTES;

    /** Longest key (and lock name), in bytes of UTF-8. */
    public static final int MAX_KEY_BYTES = Names.MAX_NAME_BYTES;

    /**
     * Most keys one session may own ({@link RegisterSet#attach()}): a write that would
     * attach one more is refused with {@code QUOTA_EXCEEDED}, naming {@code keys-per-session}.
     * The bytes of all values together are bounded by the {@code register-bytes} quota.
     */
    public static final int MAX_KEYS_PER_SESSION = Keys.MAX_KEYS_PER_SESSION;

    /** Shortest and longest time to live of a key, in milliseconds (one second; thirty days). */
    public static final long MIN_KEY_TTL_MILLIS = Keys.MIN_TTL_SECONDS * 1000L;

    public static final long MAX_KEY_TTL_MILLIS = Keys.MAX_TTL_DAYS * 24L * 3600 * 1000;

    /**
     * Most compares of one {@link Transaction}, and most ops of each of its branches
     * ({@code txn-ops}).
     */
    public static final int MAX_TXN_OPS = Keys.MAX_TXN_OPS;

    /**
     * Most bytes of keys (UTF-8) and values one {@link Transaction} carries in its
     * compares and both branches together ({@code txn-bytes}).
     */
    public static final int MAX_TXN_BYTES = Keys.MAX_TXN_BYTES;

    /** Most keys one listing page answers ({@code LockTable#keys}). */
    public static final int MAX_KEY_PAGE = Keys.MAX_PAGE;

    /**
     * The bytes of keys and values after which a listing page ends ({@code LockTable#keys}), at
     * least one key: a page fits every client's frame.
     */
    public static final int MAX_KEY_PAGE_BYTES = Keys.MAX_PAGE_BYTES;

    /** Longest client name, in characters. */
    public static final int MAX_CLIENT_NAME = ClientOptions.MAX_CLIENT_NAME;

    /** Session ids: this many characters at least and at most, from [A-Za-z0-9_-]. */
    public static final int MIN_SESSION_ID = SessionIds.MIN_LENGTH;

    public static final int MAX_SESSION_ID = SessionIds.MAX_LENGTH;

    private Limits() {}

    /** Refuses {@code value} outside {@code min..max} with an {@link io.holdfast.InvalidArgumentException}. */
    static void checkRange(String what, long value, long min, long max) {
        if (value < min || value > max) {
            throw new io.holdfast.InvalidArgumentException(
                    what + " must be between " + min + " and " + max + ", not " + value);
        }
    }
}
