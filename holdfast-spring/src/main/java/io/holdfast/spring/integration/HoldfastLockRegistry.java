package io.holdfast.spring.integration;

import io.holdfast.DistributedLock;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.LockLostException;
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
     * The Holdfast {@link Lock} view ({@link DistributedLock#asLock(DistributedLock.HoldListener)}: one lease
     * per thread, counted for reentrancy, a lost hold told at the thread's next reentrant acquisition and then
     * forgotten), observed for eviction and metrics: the view tells this of every hold it gains, gives up or
     * finds lost, and this times each acquisition. {@code LockRegistryLeaderInitiator}'s heartbeat, a
     * reentrant {@code tryLock}, thus notices a revoked or expired leadership.
     */
    private static final class ObservedLock implements Lock, DistributedLock.HoldListener {
        private final DistributedLock lock;
        /** This registry's own view of {@link #lock}: no one else takes or gives back its holds. */
        private final Lock view;

        private final LockObserver observer;

        final AtomicInteger holds = new AtomicInteger();

        ObservedLock(DistributedLock lock, LockObserver observer) {
            this.lock = lock;
            this.view = lock.asLock(this);
            this.observer = observer;
        }

        @Override
        public void lock() {
            long t0 = System.nanoTime();
            try {
                view.lock();
            } catch (RuntimeException e) {
                observer.acquisition(LockObserver.Source.REGISTRY, LockObserver.Outcome.ERROR, System.nanoTime() - t0);
                throw e;
            }
            acquired(t0);
        }

        @Override
        public void lockInterruptibly() throws InterruptedException {
            if (Thread.interrupted()) {
                throw new InterruptedException(); // no acquisition began
            }
            long t0 = System.nanoTime();
            try {
                view.lockInterruptibly();
            } catch (RuntimeException | InterruptedException e) {
                observer.acquisition(LockObserver.Source.REGISTRY, LockObserver.Outcome.ERROR, System.nanoTime() - t0);
                throw e;
            }
            acquired(t0);
        }

        @Override
        public boolean tryLock() {
            long t0 = System.nanoTime();
            return outcome(t0, view.tryLock());
        }

        @Override
        public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
            if (Thread.interrupted()) {
                throw new InterruptedException(); // no acquisition began
            }
            long t0 = System.nanoTime();
            return outcome(t0, view.tryLock(time, unit));
        }

        @Override
        public void unlock() {
            try {
                view.unlock();
            } catch (LockLostException e) {
                // This thread's hold is dropped although the lease could not be given back.
                observer.lost(LockObserver.Source.REGISTRY);
                throw e;
            }
        }

        /** Not supported: the view refuses it (a distributed condition would need a wait queue of its own). */
        @Override
        public Condition newCondition() {
            return view.newCondition();
        }

        private boolean outcome(long t0, boolean got) {
            if (got) {
                acquired(t0);
            } else {
                observer.acquisition(LockObserver.Source.REGISTRY, LockObserver.Outcome.BUSY, System.nanoTime() - t0);
            }
            return got;
        }

        private void acquired(long t0) {
            observer.acquisition(LockObserver.Source.REGISTRY, LockObserver.Outcome.ACQUIRED, System.nanoTime() - t0);
        }

        @Override
        public void entered() {
            holds.incrementAndGet();
        }

        @Override
        public void left() {
            holds.decrementAndGet();
            observer.released(LockObserver.Source.REGISTRY);
        }

        @Override
        public void lost(int entries) {
            for (int i = 0; i < entries; i++) {
                left();
            }
            observer.lost(LockObserver.Source.REGISTRY);
        }

        @Override
        public String toString() {
            return "HoldfastLockRegistry.Lock[" + lock.name() + "]";
        }
    }
}
