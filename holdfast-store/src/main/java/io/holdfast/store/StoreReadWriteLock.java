package io.holdfast.store;

import io.holdfast.DistributedLock;
import io.holdfast.DistributedReadWriteLock;

/** A read-write lock: two handles on one name. */
record StoreReadWriteLock(String name, DistributedLock readLock, DistributedLock writeLock)
        implements DistributedReadWriteLock {}
