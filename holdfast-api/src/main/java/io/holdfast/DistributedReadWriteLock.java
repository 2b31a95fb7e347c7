package io.holdfast;

import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;

/**
 * A named read-write lock: any number of readers together, or one writer alone, on one fair queue
 * (a writer waiting is not overtaken by later readers, so writers do not starve).
 *
 * <p>Not supported: upgrading a read lease to a write lease (two readers that both upgrade would
 * deadlock). Release the read lease and acquire the write lock instead.
 */
public interface DistributedReadWriteLock {
    /** The lock's name. */
    String name();

    /** The shared half. */
    DistributedLock readLock();

    /** The exclusive half. */
    DistributedLock writeLock();

    /** A {@link ReadWriteLock} view; see {@link DistributedLock#asLock()} for its rules. */
    default ReadWriteLock asReadWriteLock() {
        Lock read = readLock().asLock();
        Lock write = writeLock().asLock();
        return new ReadWriteLock() {
            @Override
            public Lock readLock() {
                return read;
            }

            @Override
            public Lock writeLock() {
                return write;
            }
        };
    }
}
