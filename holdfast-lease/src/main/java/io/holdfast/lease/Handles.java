package io.holdfast.lease;

import io.holdfast.AcquireOptions;
import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.DistributedLock;
import io.holdfast.DistributedMultiLock;
import io.holdfast.DistributedReadWriteLock;
import io.holdfast.DistributedSemaphore;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Lease;
import io.holdfast.LockMode;
import io.holdfast.Names;
import io.holdfast.Ticker;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.Versioned;
import io.holdfast.VersionedRegister;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * The lock, read-write lock, semaphore and register handles of every Holdfast engine, over an
 * engine's {@link Acquirer} (and {@link Registrar}).
 *
 * <p><b>What it guarantees</b>: one place checks what the public API promises, the same way for
 * every engine.
 *
 * <ul>
 *   <li>A capability that a kind of handle needs is checked when the handle is created: {@link
 *       #readWriteLock} needs {@link Capability#READ_WRITE}, {@link #semaphore} needs {@link
 *       Capability#SEMAPHORE}, and an engine without it refuses the handle with {@link
 *       UnsupportedFeatureException} (so a handle that exists can always be used).
 *   <li>What depends on the call's arguments is checked on each acquire, before the acquirer is
 *       called: {@code null} options and a permit count outside 1..maxPermits are refused with
 *       {@link InvalidArgumentException}, a lease timeout without {@link Capability#LEASE_TIMEOUT}
 *       with {@link UnsupportedFeatureException}.
 * </ul>
 *
 * <p><b>What it does not do</b>: check that the engine is open (an engine does that in its own
 * factory methods and acquirer), or wait for anything itself.
 *
 * <p><b>Failure story.</b> An application written against a provider with semaphores is pointed
 * at one without: {@code client.semaphore("slots", 4)} throws {@link UnsupportedFeatureException}
 * at start-up, where the handle is made, rather than at the first acquire under load.
 */
public final class Handles {
    private Handles() {}

    /** The exclusive lock with this name. @throws InvalidArgumentException for a bad name */
    public static DistributedLock lock(Acquirer acquirer, String name) {
        return new Lock(acquirer, Names.check(name), LockMode.EXCLUSIVE);
    }

    /**
     * The read-write lock with this name.
     *
     * @throws UnsupportedFeatureException without {@link Capability#READ_WRITE}
     * @throws InvalidArgumentException for a bad name
     */
    public static DistributedReadWriteLock readWriteLock(Acquirer acquirer, String name) {
        require(acquirer, Capability.READ_WRITE, "read-write locks");
        String checked = Names.check(name);
        return new ReadWriteLock(
                checked, new Lock(acquirer, checked, LockMode.SHARED), new Lock(acquirer, checked, LockMode.EXCLUSIVE));
    }

    /**
     * The semaphore with this name and size.
     *
     * @throws UnsupportedFeatureException without {@link Capability#SEMAPHORE}
     * @throws InvalidArgumentException for a bad name or a size outside 1..{@link
     *     DistributedSemaphore#MAX_PERMITS}
     */
    public static DistributedSemaphore semaphore(Acquirer acquirer, String name, int maxPermits) {
        require(acquirer, Capability.SEMAPHORE, "semaphores");
        if (maxPermits < 1 || maxPermits > DistributedSemaphore.MAX_PERMITS) {
            throw new InvalidArgumentException(
                    "a semaphore has 1 to " + DistributedSemaphore.MAX_PERMITS + " permits, not " + maxPermits);
        }
        return new Semaphore(acquirer, Names.check(name), maxPermits);
    }

    /**
     * Refuses a feature the engine does not declare.
     *
     * @throws UnsupportedFeatureException "the X provider does not support {@code feature}"
     */
    public static void require(Acquirer acquirer, Capability capability, String feature) {
        if (!acquirer.capabilities().contains(capability)) {
            throw new UnsupportedFeatureException(
                    "the " + acquirer.provider() + " provider does not support " + feature);
        }
    }

    /**
     * Refuses client options that the engine's capabilities cannot honour: a lock-delay needs
     * {@link Capability#LOCK_DELAY}. Every engine calls it when a client opens, beside the
     * capability checks of the handles above, so that no provider forgets one.
     *
     * @throws UnsupportedFeatureException naming the provider and the option
     */
    public static void requireOptions(String provider, Set<Capability> capabilities, ClientOptions options) {
        if (!options.lockDelay().isZero() && !capabilities.contains(Capability.LOCK_DELAY)) {
            throw new UnsupportedFeatureException("the " + provider + " provider does not support a lock-delay");
        }
    }

    /**
     * The versioned register with this key.
     *
     * @throws UnsupportedFeatureException without {@link Capability#REGISTERS}
     * @throws InvalidArgumentException for a bad key
     */
    public static VersionedRegister register(Acquirer engine, Registrar registrar, String key) {
        require(engine, Capability.REGISTERS, "versioned registers");
        return new Register(engine, registrar, Names.check(key));
    }

    /**
     * The keys of an engine ({@link io.holdfast.Keys}), checked as {@link CheckedKeys} says before
     * {@code engineKeys} is called: the engine's keys may trust their arguments.
     *
     * @throws UnsupportedFeatureException without {@link Capability#KEYS}
     */
    public static io.holdfast.Keys keys(Acquirer engine, io.holdfast.Keys engineKeys) {
        require(engine, Capability.KEYS, "keys");
        return new CheckedKeys(engine, engineKeys);
    }

    /**
     * Several locks taken all or none, in sorted order ({@link DistributedMultiLock}).
     *
     * @param ticker the engine's clock, for what is left of the one wait time
     * @throws InvalidArgumentException for no names, too many, a bad or repeated name, or a mode
     *     other than exclusive or shared
     * @throws UnsupportedFeatureException without {@link Capability#MULTI_LOCK}, or for shared mode
     *     without {@link Capability#READ_WRITE}
     */
    public static DistributedMultiLock multiLock(
            Acquirer acquirer, Ticker ticker, Collection<String> names, LockMode mode) {
        require(acquirer, Capability.MULTI_LOCK, "multi-locks");
        if (names == null || names.isEmpty() || names.size() > DistributedMultiLock.MAX_NAMES) {
            throw new InvalidArgumentException("a multi-lock takes 1 to " + DistributedMultiLock.MAX_NAMES
                    + " names, not " + (names == null ? "null" : names.size()));
        }
        if (mode != LockMode.EXCLUSIVE && mode != LockMode.SHARED) {
            throw new InvalidArgumentException("a multi-lock is exclusive or shared, not " + mode);
        }
        if (mode == LockMode.SHARED) {
            require(acquirer, Capability.READ_WRITE, "shared locks");
        }
        TreeSet<String> sorted = new TreeSet<>();
        for (String name : names) {
            if (!sorted.add(Names.check(name))) {
                throw new InvalidArgumentException("a multi-lock names each lock once; " + name + " is repeated");
            }
        }
        return new MultiLocks(acquirer, ticker, new ArrayList<>(sorted), mode);
    }

    static void checkOptions(Acquirer acquirer, AcquireOptions options) {
        notNull(options);
        if (options.leaseTimeout() != null) {
            require(acquirer, Capability.LEASE_TIMEOUT, "lease timeouts");
        }
    }

    private static void notNull(AcquireOptions options) {
        if (options == null) {
            throw new InvalidArgumentException("acquire options must not be null");
        }
    }

    private record ReadWriteLock(String name, DistributedLock readLock, DistributedLock writeLock)
            implements DistributedReadWriteLock {
        @Override
        public String toString() {
            return "ReadWriteLock[" + name + "]";
        }
    }

    private static final class Lock implements DistributedLock {
        private final Acquirer acquirer;
        private final LeaseRequest request;

        Lock(Acquirer acquirer, String name, LockMode mode) {
            this.acquirer = acquirer;
            this.request = new LeaseRequest(name, mode, 1, 1);
        }

        @Override
        public String name() {
            return request.name();
        }

        @Override
        public LockMode mode() {
            return request.mode();
        }

        @Override
        public Lease acquire(AcquireOptions options) throws InterruptedException {
            checkOptions(acquirer, options);
            return acquirer.acquire(request, options);
        }

        @Override
        public Optional<Lease> tryAcquire() {
            return acquirer.tryAcquire(request);
        }

        @Override
        public CompletableFuture<Lease> acquireAsync(AcquireOptions options) {
            checkOptions(acquirer, options);
            return acquirer.acquireAsync(request, options);
        }

        @Override
        public String toString() {
            return (request.mode() == LockMode.SHARED ? "ReadLock[" : "Lock[") + request.name() + "]";
        }
    }

    private static final class Register implements VersionedRegister {
        private final Acquirer engine;
        private final Registrar registrar;
        private final String key;

        Register(Acquirer engine, Registrar registrar, String key) {
            this.engine = engine;
            this.registrar = registrar;
            this.key = key;
        }

        @Override
        public String key() {
            return key;
        }

        @Override
        public Optional<Versioned> get() {
            return registrar.read(key);
        }

        @Override
        public CompletableFuture<Optional<Versioned>> getAsync() {
            return registrar.readAsync(key);
        }

        @Override
        public Versioned compareAndSet(long expectedVersion, byte[] value) {
            return registrar.write(key, expectedVersion, RegisterArguments.checkedCopy(expectedVersion, value), null);
        }

        @Override
        public Versioned compareAndSet(long expectedVersion, byte[] value, Lease fence) {
            require(engine, Capability.FENCED_REGISTERS, "register writes fenced by a lease");
            byte[] copy = RegisterArguments.checkedCopy(expectedVersion, value);
            if (fence == null || !registrar.isOwn(fence)) {
                // A write is fenced by the writer's own lock: a lease of another client would let
                // this client write while another holds the lock.
                throw RegisterArguments.foreignFence(fence);
            }
            return registrar.write(key, expectedVersion, copy, fence);
        }

        @Override
        public CompletableFuture<Versioned> compareAndSetAsync(long expectedVersion, byte[] value) {
            byte[] copy;
            try {
                copy = RegisterArguments.checkedCopy(expectedVersion, value);
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
            return registrar.writeAsync(key, expectedVersion, copy);
        }

        @Override
        public String toString() {
            return "VersionedRegister[" + key + "]";
        }
    }

    private static final class Semaphore implements DistributedSemaphore {
        private final Acquirer acquirer;
        private final String name;
        private final int maxPermits;

        Semaphore(Acquirer acquirer, String name, int maxPermits) {
            this.acquirer = acquirer;
            this.name = name;
            this.maxPermits = maxPermits;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public int maxPermits() {
            return maxPermits;
        }

        @Override
        public Lease acquire(int permits, AcquireOptions options) throws InterruptedException {
            notNull(options);
            LeaseRequest request = request(permits);
            checkOptions(acquirer, options);
            return acquirer.acquire(request, options);
        }

        @Override
        public Optional<Lease> tryAcquire(int permits) {
            return acquirer.tryAcquire(request(permits));
        }

        @Override
        public CompletableFuture<Lease> acquireAsync(int permits, AcquireOptions options) {
            notNull(options);
            LeaseRequest request = request(permits);
            checkOptions(acquirer, options);
            return acquirer.acquireAsync(request, options);
        }

        private LeaseRequest request(int permits) {
            if (permits < 1 || permits > maxPermits) {
                throw new InvalidArgumentException(
                        "permits must be between 1 and " + maxPermits + " for semaphore " + name + ", not " + permits);
            }
            return new LeaseRequest(name, LockMode.PERMITS, permits, maxPermits);
        }

        @Override
        public String toString() {
            return "Semaphore[" + name + ", " + maxPermits + " permits]";
        }
    }
}
