package io.holdfast;

/**
 * What a provider can honour. A feature that a provider lacks is reported with {@link
 * UnsupportedFeatureException}, never silently ignored; the contract suite switches its tests on
 * these.
 */
public enum Capability {
    /** Waiters are granted in arrival order, and the release step grants the next one. */
    FAIR_QUEUE,
    /** Shared (read) mode beside exclusive mode. */
    READ_WRITE,
    /** Counting semaphores. */
    SEMAPHORE,
    /** Optional lease timeouts, renewed by the client's watchdog. */
    LEASE_TIMEOUT,
    /** Waits that would close a cycle are refused with {@link DeadlockException}. */
    DEADLOCK_DETECTION,
    /** {@link LockClient#multiLock}: several locks taken all or none, never in a cycle with one another. */
    MULTI_LOCK,
    /** Versioned registers with compare-and-set. */
    REGISTERS,
    /** Register writes fenced by a lease. */
    FENCED_REGISTERS,
    /** {@link Admin#revoke(String)}. */
    REVOKE,
    /** {@link Admin#locks(String, int)} and {@link Admin#describe(String)}. */
    INSPECT,
    /** {@link Admin#isCurrentHolder(String, long)}. */
    CHECK_FENCE,
    /**
     * Watches report every change, in the service's order, from its record of changes ({@link
     * LockClient#watch(WatchTarget, WatchListener)}); without it they poll.
     */
    WATCH,
    /** Locks of an expired session stay ungrantable for a lock-delay. */
    LOCK_DELAY,
    /** The lock state survives the loss of a store node (replication). */
    SURVIVES_NODE_FAILURE,
    /**
     * {@link Keys}: get, put, delete with an expected version, list by prefix, counters, and a watch
     * of a prefix of keys.
     */
    KEYS,
    /** Keys attached to the client's session ({@link PutOptions#attached()}), deleted as it ends. */
    SESSION_KEYS,
    /** Keys with a time to live ({@link PutOptions#ttl()}). */
    KEY_TTL,
    /** {@link Keys#commit}: several keys compared and changed in one step. */
    TRANSACTIONS,
    /**
     * Keys attached to another open session of the same identity, a lease ({@link
     * PutOptions#lease(String)}, ADR 0006): several clients' keys sharing one lifetime.
     */
    SHARED_LEASES
}
