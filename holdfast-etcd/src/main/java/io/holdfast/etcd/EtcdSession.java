package io.holdfast.etcd;

import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.holdfast.ClientOptions;
import io.holdfast.spi.DaemonThreads;
import io.holdfast.store.LossSink;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client's session with etcd: one etcd lease with the session TTL, kept alive from a thread of
 * its own every third of the TTL, and reported lost (every lease of the client, through {@link
 * LossSink#allLost}) when etcd says it is gone or when no keep-alive was acknowledged for a whole
 * TTL, measured from the sending of the last acknowledged one. A lost lease is not reused: the next
 * {@link #current()} grants a new one.
 *
 * <p>The loss check is local and runs every 50 to 250 ms, so the client gives its leases up at
 * most that long after the TTL has passed since its last acknowledged keep-alive was sent; etcd
 * cannot expire the lease before a TTL after it received that keep-alive.
 */
final class EtcdSession {
    private static final Logger log = LoggerFactory.getLogger(EtcdSession.class);
    private static final int MAX_KEEPALIVES_IN_FLIGHT = 3;

    /** One etcd lease and what is known about its liveness. */
    static final class Lease {
        final long leaseId;
        volatile long lastAckNanos;
        volatile long lastSentNanos;
        volatile boolean lost;
        final AtomicInteger keepAlivesInFlight = new AtomicInteger();

        Lease(long leaseId, long grantedAtNanos) {
            this.leaseId = leaseId;
            this.lastAckNanos = grantedAtNanos;
            this.lastSentNanos = grantedAtNanos;
        }
    }

    private final io.etcd.jetcd.Lease leases;
    private final ClientOptions options;
    private final Calls calls;
    private final ScheduledExecutorService keeper;
    private final Object lock = new Object();
    private volatile Lease current;
    private volatile LossSink sink;

    /**
     * Grants the first lease, which also proves that etcd answers, and starts the keep-alive.
     *
     * @throws io.holdfast.UnavailableException if etcd does not answer within the request timeout
     */
    EtcdSession(io.etcd.jetcd.Lease leases, ClientOptions options, Calls calls, String threadName) {
        this.leases = leases;
        this.options = options;
        this.calls = calls;
        this.keeper = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named(threadName));
        try {
            // The first grant is the client's first contact with etcd: the connect timeout bounds it.
            grant(calls.within(options.connectTimeout()));
        } catch (RuntimeException e) {
            keeper.shutdownNow();
            throw e;
        }
        long check = Math.max(50, Math.min(250, options.sessionTtl().toMillis() / 10));
        keeper.scheduleWithFixedDelay(this::tick, check, check, TimeUnit.MILLISECONDS);
    }

    void reportTo(LossSink sink) {
        this.sink = sink;
    }

    /** The live lease, granting a new one if there is none (the last one was lost). */
    Lease current() {
        Lease s = current;
        if (s != null && !s.lost) {
            return s;
        }
        synchronized (lock) {
            s = current;
            if (s != null && !s.lost) {
                return s;
            }
            return grant(calls);
        }
    }

    private Lease grant(Calls through) {
        synchronized (lock) {
            long sent = options.ticker().nanos();
            long ttl = seconds(options.sessionTtl());
            long id = through.await("granting the session lease", () -> leases.grant(ttl))
                    .getID();
            Lease s = new Lease(id, sent);
            current = s;
            return s;
        }
    }

    private void tick() {
        try {
            Lease s = current;
            if (s != null && !s.lost) {
                keepAlive(s);
            }
        } catch (RuntimeException e) {
            log.debug("etcd keep-alive round failed", e);
        }
    }

    private void keepAlive(Lease s) {
        long now = options.ticker().nanos();
        if (now - s.lastAckNanos >= options.sessionTtl().toNanos()) {
            lose(
                    s,
                    "no keep-alive of its etcd session lease was acknowledged within the session TTL of "
                            + options.sessionTtl().toMillis() + " ms");
            return;
        }
        // A slow answer must not hold back the next keep-alive (a loaded machine, a slow member):
        // one goes out every third of the TTL, up to a few outstanding, each allowed a whole TTL.
        if (now - s.lastSentNanos < options.sessionTtl().toNanos() / 3) {
            return;
        }
        if (calls.stopped() || s.keepAlivesInFlight.incrementAndGet() > MAX_KEEPALIVES_IN_FLIGHT) {
            s.keepAlivesInFlight.decrementAndGet();
            return;
        }
        s.lastSentNanos = now;
        CompletableFuture<LeaseKeepAliveResponse> f;
        try {
            f = leases.keepAliveOnce(s.leaseId);
        } catch (RuntimeException e) {
            s.keepAlivesInFlight.decrementAndGet();
            log.debug("etcd keep-alive could not be sent", e);
            return;
        }
        f.orTimeout(options.sessionTtl().toNanos(), TimeUnit.NANOSECONDS).whenComplete((r, e) -> {
            s.keepAlivesInFlight.decrementAndGet();
            if (e == null && r.getTTL() > 0) {
                synchronized (s) {
                    s.lastAckNanos = Math.max(s.lastAckNanos, now);
                }
            } else if ((e == null && r.getTTL() <= 0) || Calls.leaseNotFound(e)) {
                lose(s, "etcd no longer has its session lease (it expired)");
            } else {
                log.debug("etcd keep-alive failed; retrying until the session TTL", e);
            }
        });
    }

    private void lose(Lease s, String why) {
        synchronized (lock) {
            if (s.lost) {
                return;
            }
            s.lost = true;
            if (current == s) {
                current = null;
            }
        }
        log.debug("etcd session lease {} lost: {}", Long.toHexString(s.leaseId), why);
        if (!calls.stopped()) {
            // If etcd still has it (we only lost touch), free its keys now rather than at its expiry.
            try {
                leases.revoke(s.leaseId).exceptionally(e -> null);
            } catch (RuntimeException ignored) {
                // best effort: the lease expires in etcd by itself
            }
        }
        LossSink target = sink;
        if (target != null) {
            target.allLost(why);
        }
    }

    /** Stops the keep-alive at once, sending nothing more (a simulated crash). */
    void abandon() {
        keeper.shutdownNow();
    }

    /** Stops the keep-alive and revokes the live lease, which frees whatever is left on it. */
    void close() {
        keeper.shutdownNow();
        Lease s = current;
        if (!calls.stopped() && s != null && !s.lost) {
            try {
                calls.await("revoking the session lease", () -> leases.revoke(s.leaseId));
            } catch (io.holdfast.UnavailableException e) {
                log.debug("revoking the etcd session lease on close failed; it expires by itself", e);
            }
        }
    }

    /** etcd leases are in whole seconds: the duration rounded up, at least 1 (etcd may raise it). */
    static long seconds(Duration d) {
        return Math.max(1, (d.toMillis() + 999) / 1000);
    }
}
