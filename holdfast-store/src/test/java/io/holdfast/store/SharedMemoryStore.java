package io.holdfast.store;

import io.holdfast.Capability;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockMode;
import io.holdfast.Ticker;
import io.holdfast.UnavailableException;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A store in this JVM's memory with expiring grants, used to test {@link StoreLockClient} on its
 * own: the smallest honest store (mutual exclusion, shared mode, semaphores, expiry by the store's
 * clock, idempotent retries, wake-ups on release), not fair. Its clock is a {@link Ticker}: the
 * system's, or a test's fake one, so that grants expire in virtual time.
 */
final class SharedMemoryStore {
    private record Hold(LockMode mode, int permits, long token, long expiresAtNanos) {}

    private static final class Entry {
        final int maxPermits;
        final Map<String, Hold> holds = new HashMap<>();

        Entry(int maxPermits) {
            this.maxPermits = maxPermits;
        }
    }

    private final Map<String, Entry> locks = new HashMap<>();
    private final Ticker clock;
    private long lastToken;
    private int waiting;

    SharedMemoryStore() {
        this(Ticker.system());
    }

    SharedMemoryStore(Ticker clock) {
        this.clock = clock;
    }

    /** How many callers wait for a change right now. */
    synchronized int waiting() {
        return waiting;
    }

    StoreBackend connect() {
        return new Backend();
    }

    private synchronized Optional<Grant> tryAcquire(LockRequest r) {
        long now = clock.nanos();
        Entry e = locks.get(r.name());
        if (e != null) {
            e.holds.values().removeIf(h -> h.expiresAtNanos - now <= 0);
            if (e.holds.isEmpty()) {
                locks.remove(r.name());
                e = null;
            }
        }
        if (e == null) {
            e = new Entry(r.maxPermits());
            locks.put(r.name(), e);
        } else if (e.maxPermits != r.maxPermits()) {
            throw new InvalidArgumentException(r.name() + " is in use with " + e.maxPermits + " permits");
        }
        Hold mine = e.holds.get(r.owner());
        if (mine != null) {
            return Optional.of(new Grant(r, mine.token));
        }
        int used = 0;
        for (Hold h : e.holds.values()) {
            if (h.mode != r.mode() || r.mode() == LockMode.EXCLUSIVE) {
                return Optional.empty();
            }
            used += h.permits;
        }
        if (r.mode() == LockMode.PERMITS && used + r.permits() > e.maxPermits) {
            return Optional.empty();
        }
        long token = ++lastToken;
        e.holds.put(
                r.owner(),
                new Hold(r.mode(), r.permits(), token, now + r.expiry().toNanos()));
        return Optional.of(new Grant(r, token));
    }

    private synchronized boolean renew(Grant g) {
        Entry e = locks.get(g.request().name());
        Hold h = e == null ? null : e.holds.get(g.request().owner());
        long now = clock.nanos();
        if (h == null || h.token != g.token() || h.expiresAtNanos - now <= 0) {
            return false;
        }
        e.holds.put(
                g.request().owner(),
                new Hold(h.mode, h.permits, h.token, now + g.request().expiry().toNanos()));
        return true;
    }

    private synchronized boolean release(Grant g) {
        Entry e = locks.get(g.request().name());
        Hold h = e == null ? null : e.holds.get(g.request().owner());
        boolean had = h != null && h.token == g.token() && h.expiresAtNanos - clock.nanos() > 0;
        if (h != null && h.token == g.token()) {
            e.holds.remove(g.request().owner());
        }
        notifyAll();
        return had;
    }

    private synchronized void await(long nanos) throws InterruptedException {
        waiting++;
        try {
            TimeUnit.NANOSECONDS.timedWait(this, nanos);
        } finally {
            waiting--;
        }
    }

    private final class Backend implements StoreBackend {
        private final String session = UUID.randomUUID().toString();
        private volatile boolean abandoned;

        @Override
        public String provider() {
            return "memory-test";
        }

        @Override
        public Set<Capability> capabilities() {
            return EnumSet.of(Capability.READ_WRITE, Capability.SEMAPHORE, Capability.LEASE_TIMEOUT);
        }

        @Override
        public String sessionId() {
            return session;
        }

        private void reachable() {
            if (abandoned) {
                throw new UnavailableException("abandoned");
            }
        }

        @Override
        public Optional<Grant> tryAcquire(LockRequest request) {
            reachable();
            return SharedMemoryStore.this.tryAcquire(request);
        }

        @Override
        public void awaitChange(String name, long maxNanos) throws InterruptedException {
            await(maxNanos);
        }

        @Override
        public boolean renew(Grant grant) {
            reachable();
            return SharedMemoryStore.this.renew(grant);
        }

        @Override
        public boolean release(Grant grant) {
            reachable();
            return SharedMemoryStore.this.release(grant);
        }

        @Override
        public void abandon() {
            abandoned = true;
        }

        @Override
        public void close() {}
    }
}
