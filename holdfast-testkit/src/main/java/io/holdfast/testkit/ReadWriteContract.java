package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.Capability;
import io.holdfast.DistributedLock;
import io.holdfast.DistributedReadWriteLock;
import io.holdfast.Lease;
import io.holdfast.LockMode;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** {@link Capability#READ_WRITE}: readers share, a writer is alone, and waiting writers do not starve. */
abstract class ReadWriteContract extends ContractSupport {
    ReadWriteContract(LockProviderContract suite) {
        super(suite);
    }

    @Test
    void readersShareTheLock() {
        assumeCapability(Capability.READ_WRITE);
        String n = name("rw");
        Lease r1 = take(open().readWriteLock(n).readLock());
        Lease r2 = take(open().readWriteLock(n).readLock());
        assertThat(r1.mode()).isEqualTo(LockMode.SHARED);
        assertThat(r2.fencingToken()).isGreaterThan(r1.fencingToken());
        DistributedLock writer = open().readWriteLock(n).writeLock();
        assertThat(writer.tryAcquire())
                .as("the write lock while two readers hold")
                .isEmpty();
        r1.release();
        assertThat(writer.tryAcquire())
                .as("the write lock while one reader holds")
                .isEmpty();
        r2.release();
        Lease w = take(writer);
        assertThat(w.mode()).isEqualTo(LockMode.EXCLUSIVE);
        assertThat(w.fencingToken()).isGreaterThan(r2.fencingToken());
    }

    @Test
    void aWriterExcludesReadersAndWriters() {
        assumeCapability(Capability.READ_WRITE);
        String n = name("rw");
        DistributedReadWriteLock rw = open().readWriteLock(n);
        assertThat(rw.name()).isEqualTo(n);
        assertThat(rw.readLock().name()).isEqualTo(n);
        assertThat(rw.readLock().mode()).isEqualTo(LockMode.SHARED);
        assertThat(rw.writeLock().mode()).isEqualTo(LockMode.EXCLUSIVE);

        Lease w = take(rw.writeLock());
        DistributedReadWriteLock other = open().readWriteLock(n);
        assertThat(other.readLock().tryAcquire())
                .as("a read lock while a writer holds")
                .isEmpty();
        assertThat(other.writeLock().tryAcquire())
                .as("a write lock while a writer holds")
                .isEmpty();
        w.release();
        assertThat(other.readLock().tryAcquire())
                .as("a read lock after the writer released")
                .isPresent();
    }

    @Test
    void aWriterReleaseGrantsEveryWaitingReaderTogether() {
        assumeCapability(Capability.READ_WRITE);
        String n = name("rw");
        Lease w = take(open().readWriteLock(n).writeLock());
        CompletableFuture<Lease> r1 = open().readWriteLock(n).readLock().acquireAsync(LONG_WAIT);
        awaitQueued(n, 1);
        CompletableFuture<Lease> r2 = open().readWriteLock(n).readLock().acquireAsync(LONG_WAIT);
        awaitQueued(n, 2);
        w.release();
        assertThat(Futures.get(r1, PROMPTLY).isValid()).isTrue();
        assertThat(Futures.get(r2, PROMPTLY).isValid())
                .as("the second reader, with the first still holding")
                .isTrue();
    }

    @Test
    void aWaitingWriterIsNotOvertakenByLaterReaders() {
        assumeCapability(Capability.READ_WRITE, Capability.FAIR_QUEUE);
        String n = name("rw");
        Lease r1 = take(open().readWriteLock(n).readLock());
        CompletableFuture<Lease> writer = open().readWriteLock(n).writeLock().acquireAsync(LONG_WAIT);
        awaitQueued(n, 1);
        DistributedLock lateReader = open().readWriteLock(n).readLock();
        assertThat(lateReader.tryAcquire())
                .as("a reader's tryAcquire while a writer waits")
                .isEmpty();
        CompletableFuture<Lease> reader = lateReader.acquireAsync(LONG_WAIT);
        awaitQueued(n, 2);
        assertThat(reader).as("a reader queued behind a waiting writer").isNotDone();

        r1.release();
        Lease w = Futures.get(writer, PROMPTLY);
        assertThat(reader).as("the later reader while the writer holds").isNotDone();

        w.release();
        Lease r = Futures.get(reader, PROMPTLY);
        assertThat(r.fencingToken()).isGreaterThan(w.fencingToken());
    }
}
