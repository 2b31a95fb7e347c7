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
 * its later {@code unlock()} calls throw {@link NotOwnerException}. So a thread that checks its
 * leadership with {@code tryLock} (Spring Integration's leader initiator does) learns that it no
 * longer leads.
 *
 * <p>The one {@link Lock} adapter of Holdfast: code that observes a view (Spring's lock registry)
 * wraps one made with a {@link DistributedLock.HoldListener}, which it tells of every change of
 * the holds.
 */
final class LeaseLock implements Lock {
    private static final class Hold {
        final Lease lease;
        int count = 1;

        Hold(Lease lease) {
            this.lease = lease;
        }
    }

    private static final DistributedLock.HoldListener NOBODY = new DistributedLock.HoldListener() {
        @Override
        public void entered() {}

        @Override
        public void left() {}

        @Override
        public void lost(int entries) {}
    };

    private final DistributedLock lock;
    private final DistributedLock.HoldListener listener;
    private final Map<Thread, Hold> holds = new ConcurrentHashMap<>();

    /** @param listener told of each change of the holds, or null */
    LeaseLock(DistributedLock lock, DistributedLock.HoldListener listener) {
        this.lock = lock;
        this.listener = listener == null ? NOBODY : listener;
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
            listener.lost(hold.count);
            throw new LockLostException("this thread's hold of " + lock.name()
                    + " was lost (its session expired, or it was revoked); it can lock it afresh");
        }
        hold.count++;
        listener.entered();
        return true;
    }

    /** The thread took the lock: its hold of {@code lease}, entered once. */
    private void hold(Lease lease) {
        holds.put(Thread.currentThread(), new Hold(lease));
        listener.entered();
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
            hold(lock.acquire(AcquireOptions.MAX_DURATION));
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
                .map(lease -> {
                    hold(lease);
                    return true;
                })
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
            hold(lock.acquire(wait));
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
        boolean last = --hold.count == 0;
        if (last) {
            holds.remove(me);
        }
        listener.left();
        if (last) {
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
