package io.holdfast;

/** How a lease holds its resource. */
public enum LockMode {
    /** One holder at a time (a write lock, or a plain mutex). */
    EXCLUSIVE,
    /** Any number of holders together, never beside an exclusive one (a read lock). */
    SHARED,
    /** A number of a semaphore's permits. */
    PERMITS
}
