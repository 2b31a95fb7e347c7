package io.holdfast.cli;

import io.holdfast.AcquireOptions;
import io.holdfast.Admin;
import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.DistributedLock;
import io.holdfast.DistributedReadWriteLock;
import io.holdfast.DistributedSemaphore;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockLostException;
import io.holdfast.LockMode;
import io.holdfast.LockTimeoutException;
import io.holdfast.Ticker;
import io.holdfast.UnavailableException;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.VersionedRegister;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.recipes.Recipes;
import io.holdfast.spi.AbstractLockClient;
import io.holdfast.spi.LockProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A small in-memory provider for the CLI's tests, so that they need no other module's provider. URIs
 * {@code fake:NAME} share one store per NAME; {@code fake:down} is unreachable; a store named {@code fake:broken...}
 * grants every request at once (no exclusion), to prove that the demo's checks catch a broken lock.
 */
public final class FakeProvider implements LockProvider {
    private static final Map<String, Store> STORES = new ConcurrentHashMap<>();

    @Override
    public String name() {
        return "fake";
    }

    @Override
    public boolean accepts(String uri) {
        return uri.startsWith("fake:");
    }

    @Override
    public LockClient open(String uri, ClientOptions options) {
        if (uri.equals("fake:down")) {
            throw new UnavailableException("the fake store is down");
        }
        return new Client(store(uri));
    }

    static Store store(String uri) {
        return STORES.computeIfAbsent(uri, u -> new Store(u.startsWith("fake:broken")));
    }

    /** The lock table: holders per name, one token counter. */
    static final class Store {
        private final boolean broken;
        private final Map<String, List<FakeLease>> holders = new HashMap<>();
        private long nextToken = 1;

        Store(boolean broken) {
            this.broken = broken;
        }

        synchronized FakeLease acquire(String name, LockMode mode, Duration wait) throws InterruptedException {
            long deadline = System.nanoTime() + wait.toNanos();
            while (!grantable(name, mode)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new LockTimeoutException("timed out waiting for " + name);
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            FakeLease lease = new FakeLease(this, name, mode, nextToken++);
            holders.computeIfAbsent(name, k -> new ArrayList<>()).add(lease);
            return lease;
        }

        private boolean grantable(String name, LockMode mode) {
            List<FakeLease> current = holders.getOrDefault(name, List.of());
            return broken
                    || current.isEmpty()
                    || (mode == LockMode.SHARED && current.stream().allMatch(l -> l.mode() == LockMode.SHARED));
        }

        synchronized boolean remove(FakeLease lease) {
            boolean held = holders.getOrDefault(lease.name(), new ArrayList<>()).remove(lease);
            notifyAll();
            return held;
        }

        synchronized int holders(String name) {
            return holders.getOrDefault(name, List.of()).size();
        }

        /** Takes every lease on {@code name} away, as a revoke or an expired session would. */
        void revoke(String name) {
            List<FakeLease> taken;
            synchronized (this) {
                taken = new ArrayList<>(holders.getOrDefault(name, List.of()));
                holders.remove(name);
                notifyAll();
            }
            taken.forEach(FakeLease::lose);
        }
    }

    static final class FakeLease implements Lease {
        private enum State {
            HELD,
            RELEASED,
            LOST
        }

        private final Store store;
        private final String name;
        private final LockMode mode;
        private final long token;
        private final List<Consumer<? super LockLostException>> listeners = new ArrayList<>();
        private State state = State.HELD;

        FakeLease(Store store, String name, LockMode mode, long token) {
            this.store = store;
            this.name = name;
            this.mode = mode;
            this.token = token;
        }

        void lose() {
            List<Consumer<? super LockLostException>> toCall;
            synchronized (this) {
                if (state != State.HELD) {
                    return;
                }
                state = State.LOST;
                toCall = List.copyOf(listeners);
            }
            LockLostException lost = new LockLostException("revoked by the test");
            toCall.forEach(l -> l.accept(lost));
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public LockMode mode() {
            return mode;
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
        public synchronized boolean isValid() {
            return state == State.HELD;
        }

        @Override
        public synchronized void checkValid() {
            if (state == State.LOST) {
                throw new LockLostException("lost " + name);
            }
        }

        @Override
        public void onLost(Consumer<? super LockLostException> listener) {
            synchronized (this) {
                if (state != State.LOST) {
                    listeners.add(listener);
                    return;
                }
            }
            listener.accept(new LockLostException("lost " + name));
        }

        @Override
        public void release() {
            synchronized (this) {
                if (state == State.LOST) {
                    throw new LockLostException("lost " + name + " before release");
                }
                if (state == State.RELEASED) {
                    return;
                }
                state = State.RELEASED;
            }
            store.remove(this);
        }

        @Override
        public CompletableFuture<Void> releaseAsync() {
            return CompletableFuture.runAsync(this::release);
        }

        @Override
        public void close() {
            release();
        }
    }

    /** The recipes' timers, shared by every client of this double. */
    private static final ScheduledExecutorService TIMERS =
            Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("fake-recipes"));
    /** The recipes' work (final reads, polling watches), shared by every client of this double. */
    private static final ExecutorService WORK = Executors.newCachedThreadPool(DaemonThreads.numbered("fake-work"));

    static final class Client extends AbstractLockClient {
        private final Store store;
        private final List<FakeLease> leases = new ArrayList<>();
        private volatile boolean open = true;
        private final Recipes recipes = new Recipes(this, Ticker.system(), TIMERS, WORK);

        Client(Store store) {
            this.store = store;
        }

        Store store() {
            return store;
        }

        @Override
        public DistributedLock lock(String name) {
            return new Lock(name, LockMode.EXCLUSIVE);
        }

        @Override
        public DistributedReadWriteLock readWriteLock(String name) {
            return new DistributedReadWriteLock() {
                @Override
                public String name() {
                    return name;
                }

                @Override
                public DistributedLock readLock() {
                    return new Lock(name, LockMode.SHARED);
                }

                @Override
                public DistributedLock writeLock() {
                    return new Lock(name, LockMode.EXCLUSIVE);
                }
            };
        }

        @Override
        public DistributedSemaphore semaphore(String name, int permits) {
            throw new UnsupportedFeatureException("fake: no semaphores");
        }

        @Override
        public VersionedRegister register(String key) {
            throw new UnsupportedFeatureException("fake: no registers");
        }

        @Override
        protected Recipes recipes() {
            return recipes;
        }

        @Override
        public Admin admin() {
            throw new UnsupportedFeatureException("fake: no admin");
        }

        @Override
        public Set<Capability> capabilities() {
            return EnumSet.of(Capability.READ_WRITE, Capability.REVOKE);
        }

        @Override
        public String sessionId() {
            return "fake-session";
        }

        @Override
        public boolean isOpen() {
            return open;
        }

        @Override
        public void close() {
            open = false;
            List<FakeLease> mine;
            synchronized (leases) {
                mine = List.copyOf(leases);
                leases.clear();
            }
            for (FakeLease lease : mine) {
                try {
                    lease.release();
                } catch (LockLostException e) {
                    // closing gives back what is still held; a lost lease is already gone
                }
            }
        }

        private final class Lock implements DistributedLock {
            private final String name;
            private final LockMode mode;

            Lock(String name, LockMode mode) {
                this.name = name;
                this.mode = mode;
            }

            @Override
            public String name() {
                return name;
            }

            @Override
            public LockMode mode() {
                return mode;
            }

            @Override
            public Lease acquire(AcquireOptions options) throws InterruptedException {
                FakeLease lease = store.acquire(name, mode, options.waitTime());
                synchronized (leases) {
                    leases.add(lease);
                }
                return lease;
            }

            @Override
            public Optional<Lease> tryAcquire() {
                try {
                    return Optional.of(acquire(AcquireOptions.tryOnce()));
                } catch (LockTimeoutException e) {
                    return Optional.empty();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return Optional.empty();
                }
            }

            @Override
            public CompletableFuture<Lease> acquireAsync(AcquireOptions options) {
                return CompletableFuture.supplyAsync(() -> {
                    try {
                        return acquire(options);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new CompletionException(e);
                    }
                });
            }
        }
    }
}
