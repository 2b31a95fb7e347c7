package io.holdfast.etcd;

import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.holdfast.ClientOptions;
import io.holdfast.internal.DaemonThreads;
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
 * LossSink#allLost}) when etcd says it is gone or when its validity ends. A lost lease is not
 * reused: the next {@link #current()} grants a new one.
 *
 * <p><b>Validity.</b> etcd expires a lease once a whole TTL has passed since it last received a
 * keep-alive (or the grant), so the lease lives at least the TTL etcd reported past the
 * <em>sending</em> of the latest keep-alive (or grant) it acknowledged. {@link #validUntilNanos()}
 * is that moment less a margin (a tenth of the TTL, at least 50 ms) for clock rate drift (etcd
 * counts the TTL on its clock, this on the client's injected ticker) and for the check's own delay.
 * The check runs several times per margin (at most every 250 ms), so the client gives its leases
 * up before etcd can expire the lease and grant its locks to others.
 *
 * <p><b>A failure story.</b> etcd is paused (SIGSTOP, a stalled disk) right after the client's
 * lease was granted: no keep-alive is answered, the check finds the validity over a margin before
 * the TTL has passed since the grant was sent, and every lease of the client is reported lost; when
 * etcd resumes, it expires the lease (or the client's revoke reaches it first), and only then can a
 * waiter be granted.
 */
final class EtcdSession {
    private static final Logger log = LoggerFactory.getLogger(EtcdSession.class);
    private static final int MAX_KEEPALIVES_IN_FLIGHT = 3;
    /** The margin is a tenth of the TTL, and at least this. */
    private static final long MIN_MARGIN_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    /** One etcd lease and what is known about its liveness. */
    static final class Lease {
        final long leaseId;
        /** The sending of the latest keep-alive (or the grant) etcd acknowledged. */
        volatile long lastAckNanos;

        volatile long lastSentNanos;
        volatile boolean lost;
        /** {@link #lastAckNanos} plus the TTL etcd reported with it, less the margin. */
        volatile long validUntilNanos;
        /** When it was found lost. */
        volatile long lostAtNanos;

        final AtomicInteger keepAlivesInFlight = new AtomicInteger();

        /** @param ttlSeconds the TTL etcd reported with the grant */
        Lease(long leaseId, long grantedAtNanos, long ttlSeconds) {
            this.leaseId = leaseId;
            this.lastAckNanos = grantedAtNanos;
            this.lastSentNanos = grantedAtNanos;
            this.validUntilNanos = validUntil(grantedAtNanos, ttlSeconds);
        }

        /** etcd acknowledged a keep-alive sent at {@code sentNanos}, reporting {@code ttlSeconds}. */
        synchronized void acknowledged(long sentNanos, long ttlSeconds) {
            if (sentNanos - lastAckNanos > 0) {
                lastAckNanos = sentNanos;
                validUntilNanos = validUntil(sentNanos, ttlSeconds);
            }
        }

        private static long validUntil(long sentNanos, long ttlSeconds) {
            long ttl = TimeUnit.SECONDS.toNanos(ttlSeconds);
            return sentNanos + ttl - marginNanos(ttl);
        }
    }

    private final io.etcd.jetcd.Lease leases;
    private final ClientOptions options;
    private final Calls calls;
    private final ScheduledExecutorService keeper;
    private final Object lock = new Object();
    private volatile Lease current;
    /** The lease granted last, live or lost. */
    private volatile Lease latest;

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
        long check = Math.max(
                10,
                Math.min(
                        250,
                        TimeUnit.NANOSECONDS.toMillis(
                                        marginNanos(options.sessionTtl().toNanos()))
                                / 4));
        keeper.scheduleWithFixedDelay(this::tick, check, check, TimeUnit.MILLISECONDS);
    }

    /** The keep-alive's scheduler, for other timers of the client's (shut down with the session). */
    ScheduledExecutorService timers() {
        return keeper;
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

    /** The live lease's id, without granting one; 0 when there is none (the last one was lost). */
    long liveLeaseId() {
        Lease s = current;
        return s != null && !s.lost ? s.leaseId : 0;
    }

    private Lease grant(Calls through) {
        synchronized (lock) {
            long sent = options.ticker().nanos();
            long ttl = seconds(options.sessionTtl());
            io.etcd.jetcd.lease.LeaseGrantResponse granted =
                    through.await("granting the session lease", () -> leases.grant(ttl));
            Lease s = new Lease(granted.getID(), sent, granted.getTTL());
            current = s;
            latest = s;
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
        if (now - s.validUntilNanos >= 0) {
            lose(
                    s,
                    "no keep-alive of its etcd session lease was acknowledged for "
                            + TimeUnit.NANOSECONDS.toMillis(now - s.lastAckNanos)
                            + " ms, and etcd may expire the lease a TTL after it last heard from the client");
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
                s.acknowledged(now, r.getTTL());
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
            s.lostAtNanos = options.ticker().nanos();
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

    /**
     * Until when, on the client's ticker, etcd cannot have expired the session lease, and with it
     * the grants on it: see the class comment. Once the lease is lost, the moment it was found lost
     * at the latest. Cheap: volatile reads only.
     */
    long validUntilNanos() {
        Lease s = latest;
        if (s == null) {
            return options.ticker().nanos();
        }
        long until = s.validUntilNanos;
        if (s.lost && s.lostAtNanos - until < 0) {
            until = s.lostAtNanos;
        }
        return until;
    }

    /** The margin taken off a TTL: a tenth of it, at least 50 ms. */
    static long marginNanos(long ttlNanos) {
        return Math.max(MIN_MARGIN_NANOS, ttlNanos / 10);
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
