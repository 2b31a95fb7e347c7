package io.holdfast.spring.integration;

import io.holdfast.DistributedLock;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.LockLostException;
import io.holdfast.LockTimeoutException;
import io.holdfast.NotOwnerException;
import io.holdfast.spring.LockObserver;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
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
     * The Holdfast {@link Lock} view ({@link DistributedLock#asLock()}: one lease per thread, counted for
     * reentrancy, a lost hold told at the thread's next reentrant acquisition and then forgotten), observed for
     * eviction and metrics. The view keeps the holds; this keeps only how many each thread has, which is what a
     * hold the view found lost was worth to the {@code held} gauge. {@code LockRegistryLeaderInitiator}'s
     * heartbeat, a reentrant {@code tryLock}, thus notices a revoked or expired leadership.
     */
    private static final class ObservedLock implements Lock {
        private final DistributedLock lock;
        /** This registry's own view of {@link #lock}: no one else takes or gives back its holds. */
        private final Lock view;

        private final LockObserver observer;
        /** Per thread, the holds it has of the view, as the view counts them. */
        private final Map<Thread, Integer> counts = new ConcurrentHashMap<>();

        final AtomicInteger holds = new AtomicInteger();

        ObservedLock(DistributedLock lock, LockObserver observer) {
            this.lock = lock;
            this.view = lock.asLock();
            this.observer = observer;
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
                view.lockInterruptibly();
            } catch (LockLostException e) {
                forgetLostHold(); // a reentrant acquisition found this thread's hold lost
                observer.acquisition(LockObserver.Source.REGISTRY, LockObserver.Outcome.ERROR, System.nanoTime() - t0);
                throw e;
            } catch (RuntimeException | InterruptedException e) {
                observer.acquisition(LockObserver.Source.REGISTRY, LockObserver.Outcome.ERROR, System.nanoTime() - t0);
                throw e;
            }
            entered(t0);
        }

        @Override
        public boolean tryLock() {
            long t0 = System.nanoTime();
            return outcome(t0, view.tryLock());
        }

        @Override
        public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            long t0 = System.nanoTime();
            return outcome(t0, view.tryLock(time, unit));
        }

        @Override
        public void unlock() {
            Thread me = Thread.currentThread();
            Integer count = counts.get(me);
            if (count == null) {
                throw new NotOwnerException("the current thread does not hold " + lock.name()); // no hold to count
            }
            if (count > 1) {
                counts.put(me, count - 1);
            } else {
                counts.remove(me);
            }
            try {
                view.unlock();
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

        /**
         * The view forgot this thread's hold, found lost, if it had one: every entry of it is counted as
         * released, and the hold as lost.
         */
        private void forgetLostHold() {
            Integer count = counts.remove(Thread.currentThread());
            if (count == null) {
                return; // it had none: a refusal, not a loss
            }
            for (int i = 0; i < count; i++) {
                released();
            }
            observer.lost(LockObserver.Source.REGISTRY);
        }

        private void released() {
            holds.decrementAndGet();
            observer.released(LockObserver.Source.REGISTRY);
        }

        /** Not supported: the view refuses it (a distributed condition would need a wait queue of its own). */
        @Override
        public Condition newCondition() {
            return view.newCondition();
        }

        /**
         * Counts a {@code tryLock}'s answer. A thread that had holds and is refused was told that its hold was
         * lost (the view answers a reentrant {@code tryLock} from its count otherwise).
         */
        private boolean outcome(long t0, boolean got) {
            if (got) {
                entered(t0);
            } else {
                forgetLostHold();
                observer.acquisition(LockObserver.Source.REGISTRY, LockObserver.Outcome.BUSY, System.nanoTime() - t0);
            }
            return got;
        }

        /** The view granted this thread a hold, new or reentrant. */
        private void entered(long t0) {
            counts.merge(Thread.currentThread(), 1, Integer::sum);
            holds.incrementAndGet();
            observer.acquisition(LockObserver.Source.REGISTRY, LockObserver.Outcome.ACQUIRED, System.nanoTime() - t0);
        }

        @Override
        public String toString() {
            return "HoldfastLockRegistry.Lock[" + lock.name() + "]";
        }
    }
}
