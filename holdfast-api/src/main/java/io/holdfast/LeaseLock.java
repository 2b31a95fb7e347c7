package io.holdfast;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;

/**
 * The {@link Lock} adapter over a {@link DistributedLock}: one lease per thread, counted for
 * reentrancy. Works over every provider because it only uses the lease API.
 *
 * <p>A thread whose lease was lost (its session expired, an operator revoked it) is told at its next
 * reentrant acquisition: {@code tryLock} answers false and {@code lock} throws {@link
 * LockLostException}; both forget the lost hold, so that the thread can take the lock afresh, and
 * its later {@code unlock()} calls throw {@link NotOwnerException}. Before, a reentrant call
 * answered true from the count alone, and a thread that checked its leadership with {@code
 * tryLock} (Spring Integration's leader initiator does) went on believing it led.
 */
final class LeaseLock implements Lock {
    private static final class Hold {
        final Lease lease;
        int count = 1;

        Hold(Lease lease) {
            this.lease = lease;
        }
    }

    private final DistributedLock lock;
    private final Map<Thread, Hold> holds = new ConcurrentHashMap<>();

    LeaseLock(DistributedLock lock) {
        this.lock = lock;
    }

    /**
     * Enters again if this thread holds the lock: true; false if it holds nothing.
     *
     * @throws LockLostException if its hold was lost (the hold is forgotten)
     */
    private boolean reenter() {
        Thread me = Thread.currentThread();
        Hold hold = holds.get(me);
        if (hold == null) {
            return false;
        }
        if (!hold.lease.isValid()) {
            holds.remove(me);
            throw new LockLostException("this thread's hold of " + lock.name()
                    + " was lost (its session expired, or it was revoked); it can lock it afresh");
        }
        hold.count++;
        return true;
    }

    @Override
    public void lock() {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    lockInterruptibly();
                    return;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (LockTimeoutException e) {
                    // MAX_DURATION passed: keep waiting, as Lock.lock() promises.
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void lockInterruptibly() throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        if (!reenter()) {
            holds.put(Thread.currentThread(), new Hold(lock.acquire(AcquireOptions.MAX_DURATION)));
        }
    }

    @Override
    public boolean tryLock() {
        try {
            if (reenter()) {
                return true;
            }
        } catch (LockLostException lost) {
            return false; // told by the answer; the next tryLock starts afresh
        }
        return lock.tryAcquire()
                .map(lease -> holds.put(Thread.currentThread(), new Hold(lease)) == null)
                .orElse(false);
    }

    @Override
    public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        try {
            if (reenter()) {
                return true;
            }
        } catch (LockLostException lost) {
            return false;
        }
        Duration wait = Duration.ofNanos(Math.max(0, unit.toNanos(time)));
        if (wait.compareTo(AcquireOptions.MAX_DURATION) > 0) {
            wait = AcquireOptions.MAX_DURATION;
        }
        try {
            holds.put(Thread.currentThread(), new Hold(lock.acquire(wait)));
            return true;
        } catch (LockTimeoutException e) {
            return false;
        }
    }

    @Override
    public void unlock() {
        Thread me = Thread.currentThread();
        Hold hold = holds.get(me);
        if (hold == null) {
            throw new NotOwnerException("the current thread does not hold " + lock.name());
        }
        if (--hold.count == 0) {
            holds.remove(me);
            hold.lease.release();
        }
    }

    /** Not supported: a distributed condition would need its own wait queue on the service. */
    @Override
    public Condition newCondition() {
        throw new UnsupportedOperationException("conditions are not supported on distributed locks");
    }

    @Override
    public String toString() {
        return "LeaseLock[" + lock.name() + ", " + lock.mode() + "]";
    }
}
