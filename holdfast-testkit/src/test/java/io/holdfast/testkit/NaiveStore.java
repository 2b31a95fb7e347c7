package io.holdfast.testkit;

import io.holdfast.AcquireOptions;
import io.holdfast.Admin;
import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.DistributedLock;
import io.holdfast.DistributedReadWriteLock;
import io.holdfast.DistributedSemaphore;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockInfo;
import io.holdfast.LockLostException;
import io.holdfast.LockMode;
import io.holdfast.LockTimeoutException;
import io.holdfast.Names;
import io.holdfast.NotOwnerException;
import io.holdfast.SessionExpiredException;
import io.holdfast.Ticker;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.VersionedRegister;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.recipes.Recipes;
import io.holdfast.spi.AbstractLockClient;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A deliberately naive, JVM-local lock store for testing the contract suite itself: exclusive
 * locks only, one monitor for everything, no queue (waiters poll the monitor, so there is no
 * fairness), no sessions to expire, no capabilities. A {@link Flaw} breaks it on purpose, so that
 * tests can show the suite notices.
 */
final class NaiveStore {
    /** A bug to build in. */
    enum Flaw {
        /** A correct (if naive) store. */
        NONE,
        /** Every request is granted, held or not. */
        NO_EXCLUSION,
        /** Every grant gets the same fencing token. */
        REPEATED_TOKENS,
        /** Closing a client forgets to release its leases. */
        CLOSE_KEEPS_LOCKS
    }

    private final Flaw flaw;
    private final Object monitor = new Object();
    private final Map<String, Set<NaiveLease>> holders = new HashMap<>();
    private long lastToken;

    NaiveStore(Flaw flaw) {
        this.flaw = flaw;
    }

    LockClient open(ClientOptions options) {
        if (options.lockDelay().compareTo(Duration.ZERO) > 0) {
            throw new UnsupportedFeatureException("the naive store has no lock-delay");
        }
        return new NaiveClient();
    }

    private static UnsupportedFeatureException unsupported(String what) {
        return new UnsupportedFeatureException("the naive store has no " + what);
    }

    /** Grants if it can; the caller holds the monitor. */
    private Optional<Lease> tryGrant(NaiveClient client, String name) {
        client.checkOpen();
        Set<NaiveLease> held = holders.computeIfAbsent(name, k -> new HashSet<>());
        if (!held.isEmpty() && flaw != Flaw.NO_EXCLUSION) {
            return Optional.empty();
        }
        NaiveLease lease = new NaiveLease(client, name, flaw == Flaw.REPEATED_TOKENS ? 1 : ++lastToken);
        held.add(lease);
        client.leases.add(lease);
        return Optional.of(lease);
    }

    /** The recipes' timers, shared by every client of this double. */
    private static final ScheduledExecutorService TIMERS =
            Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("naive-recipes"));
    /** The recipes' work (final reads, polling watches), shared by every client of this double. */
    private static final ExecutorService WORK = Executors.newCachedThreadPool(DaemonThreads.numbered("naive-work"));

    private final class NaiveClient extends AbstractLockClient {
        final String sessionId = UUID.randomUUID().toString();
        final Set<NaiveLease> leases = new HashSet<>();
        boolean open = true;
        private final Recipes recipes = new Recipes(this, Ticker.system(), TIMERS, WORK);

        void checkOpen() {
            if (!open) {
                throw new SessionExpiredException("client " + sessionId + " is closed");
            }
        }

        @Override
        public DistributedLock lock(String name) {
            return new NaiveLock(this, Names.check(name));
        }

        @Override
        public DistributedReadWriteLock readWriteLock(String name) {
            Names.check(name);
            throw unsupported("read-write locks");
        }

        @Override
        public DistributedSemaphore semaphore(String name, int permits) {
            Names.check(name);
            throw unsupported("semaphores");
        }

        @Override
        public VersionedRegister register(String key) {
            Names.check(key);
            throw unsupported("registers");
        }

        @Override
        protected Recipes recipes() {
            return recipes;
        }

        @Override
        public Admin admin() {
            return new Admin() {
                @Override
                public List<LockInfo> locks(String prefix, int limit) {
                    throw unsupported("inspection");
                }

                @Override
                public Optional<LockInfo> describe(String name) {
                    throw unsupported("inspection");
                }

                @Override
                public int revoke(String name) {
                    throw unsupported("revoke");
                }

                @Override
                public boolean isCurrentHolder(String name, long fencingToken) {
                    throw unsupported("fence checks");
                }
            };
        }

        @Override
        public Set<Capability> capabilities() {
            return EnumSet.noneOf(Capability.class);
        }

        @Override
        public String sessionId() {
            return sessionId;
        }

        @Override
        public boolean isOpen() {
            synchronized (monitor) {
                return open;
            }
        }

        @Override
        public void close() {
            synchronized (monitor) {
                open = false;
                if (flaw != Flaw.CLOSE_KEEPS_LOCKS) {
                    for (NaiveLease lease : List.copyOf(leases)) {
                        lease.release();
                    }
                }
                monitor.notifyAll();
            }
        }
    }

    private final class NaiveLock implements DistributedLock {
        private final NaiveClient client;
        private final String name;

        NaiveLock(NaiveClient client, String name) {
            this.client = client;
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public LockMode mode() {
            return LockMode.EXCLUSIVE;
        }

        @Override
        public Lease acquire(AcquireOptions options) throws InterruptedException {
            if (options.leaseTimeout() != null) {
                throw unsupported("lease timeouts");
            }
            long deadline = System.nanoTime() + options.waitTime().toNanos();
            synchronized (monitor) {
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
                while (true) {
                    Optional<Lease> lease = tryGrant(client, name);
                    if (lease.isPresent()) {
                        return lease.get();
                    }
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new LockTimeoutException("timed out waiting for " + name);
                    }
                    TimeUnit.NANOSECONDS.timedWait(monitor, left);
                }
            }
        }

        @Override
        public Optional<Lease> tryAcquire() {
            synchronized (monitor) {
                return tryGrant(client, name);
            }
        }

        @Override
        public CompletableFuture<Lease> acquireAsync(AcquireOptions options) {
            CompletableFuture<Lease> future = new CompletableFuture<>();
            Thread waiter = new Thread(
                    () -> {
                        try {
                            Lease lease = acquire(options);
                            if (!future.complete(lease)) {
                                lease.release(); // the grant raced a cancel
                            }
                        } catch (Throwable t) {
                            future.completeExceptionally(t);
                        }
                    },
                    "naive-acquire-" + name);
            waiter.setDaemon(true);
            future.whenComplete((lease, failure) -> {
                if (future.isCancelled()) {
                    waiter.interrupt();
                }
            });
            waiter.start();
            return future;
        }
    }

    private final class NaiveLease implements Lease {
        private final NaiveClient client;
        private final String name;
        private final long token;
        private boolean released;

        NaiveLease(NaiveClient client, String name, long token) {
            this.client = client;
            this.name = name;
            this.token = token;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public LockMode mode() {
            return LockMode.EXCLUSIVE;
        }

        @Override
        public int permits() {
            return 1;
        }

        @Override
        public long fencingToken() {
            return token;
        }

        @Override
        public boolean isValid() {
            synchronized (monitor) {
                return !released;
            }
        }

        @Override
        public void checkValid() {
            if (!isValid()) {
                throw new NotOwnerException(name + " was released");
            }
        }

        @Override
        public void onLost(Consumer<? super LockLostException> listener) {
            // A naive lease is never lost.
        }

        @Override
        public void release() {
            synchronized (monitor) {
                if (!released) {
                    released = true;
                    holders.get(name).remove(this);
                    client.leases.remove(this);
                    monitor.notifyAll();
                }
            }
        }

        @Override
        public CompletableFuture<Void> releaseAsync() {
            release();
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public void close() {
            release();
        }
    }
}
