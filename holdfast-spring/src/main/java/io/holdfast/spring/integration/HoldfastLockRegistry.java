package io.holdfast.spring.integration;

import io.holdfast.AcquireOptions;
import io.holdfast.DistributedLock;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockLostException;
import io.holdfast.LockTimeoutException;
import io.holdfast.NotOwnerException;
import io.holdfast.spring.LockObserver;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import org.springframework.integration.support.locks.LockRegistry;

/**
 * A Spring Integration {@link LockRegistry} over Holdfast: {@code obtain("orders/42")} is the distributed lock
 * {@code holdfast.lock-registry.prefix + "orders/42"}, as a {@link Lock}. Use it wherever Spring Integration
 * takes a registry (aggregators, {@code LockRequestHandlerAdvice}, leader initiators) or on its own.
 *
 * <p><b>Guarantees.</b> While the service is healthy, at most one thread in the whole cluster holds a key's
 * lock. The {@link Lock} is reentrant per thread, must be unlocked by the thread that locked it, and is the
 * same object for the same key while it is in use (so reentrancy works across {@code obtain} calls). Locks
 * are fair: waiters are served in the order they asked (the Holdfast server's FIFO queue).
 *
 * <p><b>Not guaranteed.</b> {@link Lock} has no notion of loss: if the session expires while a thread holds
 * the lock (a long GC pause), another node may take it and this thread is not told until it touches the lock
 * again: {@code unlock()} throws {@link LockLostException}, and so does a reentrant {@code lock()}, while a
 * reentrant {@code tryLock} returns false (both forget the lost hold, so that the thread can lock afresh and
 * its later {@code unlock()} calls throw {@link NotOwnerException}). The loss is counted in {@code
 * holdfast.lock.lost{source=registry}} then, not at the moment it happened. This is how Spring Integration's
 * {@code LockRegistryLeaderInitiator}, whose heartbeat is a reentrant {@code tryLock}, learns that its
 * leadership is gone. Use {@link LockClient#lock} with a fencing token when the protected resource can check
 * one. Conditions are not supported.
 *
 * <p><b>Failure story.</b> Two nodes aggregate messages for order 42 through {@code obtain("orders/42")}.
 * Node A is partitioned away while holding it; after the session TTL node B gets the lock and completes the
 * group; A's {@code unlock()} then fails with a lost-lock error rather than silently succeeding.
 *
 * <p>Keys must be non-blank strings that make a valid lock name with the prefix; anything else is refused
 * with {@link IllegalArgumentException}. At most {@code capacity} lock views are kept; views that no thread
 * holds are dropped beyond that.
 */
public class HoldfastLockRegistry implements LockRegistry {
    private final LockClient client;
    private final String prefix;
    private final int capacity;
    private final LockObserver observer;
    private final Map<String, ObservedLock> locks = new ConcurrentHashMap<>();

    public HoldfastLockRegistry(LockClient client, String prefix, int capacity, LockObserver observer) {
        this.client = Objects.requireNonNull(client, "client");
        this.prefix = prefix == null ? "" : prefix;
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, not " + capacity);
        }
        this.capacity = capacity;
        this.observer = observer == null ? LockObserver.NONE : observer;
    }

    /** A registry with the default prefix {@code spring-integration/}. */
    public HoldfastLockRegistry(LockClient client) {
        this(client, "spring-integration/", 10_000, LockObserver.NONE);
    }

    @Override
    public Lock obtain(Object lockKey) {
        if (!(lockKey instanceof String key) || key.isBlank()) {
            throw new IllegalArgumentException("lock keys must be non-blank strings, not " + lockKey
                    + (lockKey == null ? "" : " (" + lockKey.getClass().getName() + ")"));
        }
        String name = prefix + key;
        ObservedLock lock = locks.get(name);
        if (lock != null) {
            return lock;
        }
        try {
            lock = locks.computeIfAbsent(name, n -> new ObservedLock(client.lock(n), observer));
        } catch (InvalidArgumentException e) {
            throw new IllegalArgumentException("'" + key + "' does not make a valid lock name: " + e.getMessage(), e);
        }
        if (locks.size() > capacity) {
            evictIdle();
        }
        return lock;
    }

    /** Views currently kept (for tests and diagnostics). */
    int size() {
        return locks.size();
    }

    private void evictIdle() {
        for (Iterator<Map.Entry<String, ObservedLock>> it = locks.entrySet().iterator();
                it.hasNext() && locks.size() > capacity; ) {
            if (it.next().getValue().holds.get() == 0) {
                it.remove();
            }
        }
    }

    /**
     * The Holdfast {@link Lock} view: one lease per thread, counted for reentrancy (as {@link
     * io.holdfast.DistributedLock#asLock()}), and for eviction and metrics. A thread whose lease was lost is told
     * at its next reentrant acquisition ({@code tryLock} false, {@code lock} throws), which forgets the hold so
     * that the thread can take the lock afresh: {@code LockRegistryLeaderInitiator}'s heartbeat, a reentrant
     * {@code tryLock}, thus notices a revoked or expired leadership.
     */
    private static final class ObservedLock implements Lock {
        /** One thread's hold. */
        private static final class Hold {
            final Lease lease;
            int count = 1;

            Hold(Lease lease) {
                this.lease = lease;
            }
        }

        private final DistributedLock lock;
        private final LockObserver observer;
        private final Map<Thread, Hold> threads = new ConcurrentHashMap<>();
        final AtomicInteger holds = new AtomicInteger();

        ObservedLock(DistributedLock lock, LockObserver observer) {
            this.lock = lock;
            this.observer = observer;
        }

        /**
         * Enters again if this thread holds the lock: true; false if it does not.
         *
         * @throws LockLostException if its hold was lost (the hold is forgotten, and counted as lost)
         */
        private boolean reenter() {
            Thread me = Thread.currentThread();
            Hold hold = threads.get(me);
            if (hold == null) {
                return false;
            }
            if (!hold.lease.isValid()) {
                threads.remove(me);
                for (int i = 0; i < hold.count; i++) {
                    released();
                }
                observer.lost(LockObserver.Source.REGISTRY);
                throw new LockLostException("this thread's hold of " + lock.name() + " was lost (its session"
                        + " expired or it was revoked); it can lock it afresh");
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
                        // AcquireOptions.MAX_DURATION passed: keep waiting, as Lock.lock() promises
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
            long t0 = System.nanoTime();
            try {
                if (!reenter()) {
                    threads.put(Thread.currentThread(), new Hold(lock.acquire(AcquireOptions.MAX_DURATION)));
                }
            } catch (RuntimeException | InterruptedException e) {
                observer.acquisition(LockObserver.Source.REGISTRY, LockObserver.Outcome.ERROR, System.nanoTime() - t0);
                throw e;
            }
            granted(t0);
        }

        @Override
        public boolean tryLock() {
            long t0 = System.nanoTime();
            try {
                return outcome(t0, reenter() || fresh(lock.tryAcquire()));
            } catch (LockLostException e) {
                return outcome(t0, false);
            }
        }

        @Override
        public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            long t0 = System.nanoTime();
            try {
                if (reenter()) {
                    return outcome(t0, true);
                }
            } catch (LockLostException e) {
                return outcome(t0, false);
            }
            Duration wait = Duration.ofNanos(Math.max(0, unit.toNanos(time)));
            try {
                return outcome(t0, fresh(Optional.of(lock.acquire(min(wait, AcquireOptions.MAX_DURATION)))));
            } catch (LockTimeoutException e) {
                return outcome(t0, false);
            }
        }

        private boolean fresh(Optional<Lease> lease) {
            lease.ifPresent(l -> threads.put(Thread.currentThread(), new Hold(l)));
            return lease.isPresent();
        }

        private static Duration min(Duration a, Duration b) {
            return a.compareTo(b) <= 0 ? a : b;
        }

        @Override
        public void unlock() {
            Thread me = Thread.currentThread();
            Hold hold = threads.get(me);
            if (hold == null) {
                throw new NotOwnerException("the current thread does not hold " + lock.name()); // no hold to count
            }
            if (--hold.count > 0) {
                released();
                return;
            }
            threads.remove(me);
            try {
                hold.lease.release();
            } catch (LockLostException e) {
                // This thread's hold is dropped although the lease could not be given back.
                released();
                observer.lost(LockObserver.Source.REGISTRY);
                throw e;
            } catch (RuntimeException e) {
                released(); // the hold is dropped; the release may still reach the service (or expire)
                throw e;
            }
            released();
        }

        private void released() {
            holds.decrementAndGet();
            observer.released(LockObserver.Source.REGISTRY);
        }

        /** Not supported: a distributed condition would need its own wait queue on the service. */
        @Override
        public Condition newCondition() {
            throw new UnsupportedOperationException("conditions are not supported on distributed locks");
        }

        private boolean outcome(long t0, boolean got) {
            if (got) {
                granted(t0);
            } else {
                observer.acquisition(LockObserver.Source.REGISTRY, LockObserver.Outcome.BUSY, System.nanoTime() - t0);
            }
            return got;
        }

        private void granted(long t0) {
            holds.incrementAndGet();
            observer.acquisition(LockObserver.Source.REGISTRY, LockObserver.Outcome.ACQUIRED, System.nanoTime() - t0);
        }

        @Override
        public String toString() {
            return "HoldfastLockRegistry.Lock[" + lock.name() + "]";
        }
    }
}
