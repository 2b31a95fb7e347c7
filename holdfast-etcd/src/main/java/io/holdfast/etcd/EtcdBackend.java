package io.holdfast.etcd;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Watch;
import io.holdfast.Admin;
import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.UnavailableException;
import io.holdfast.store.Deadline;
import io.holdfast.store.Grant;
import io.holdfast.store.LockRequest;
import io.holdfast.store.LossSink;
import io.holdfast.store.StoreBackend;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The etcd primitives behind {@link io.holdfast.store.StoreLockClient}, over one jetcd client: how
 * a lock is queued and waited for is {@link Acquirer}'s, what a grant is and how it is renewed and
 * released {@link Grants}', the keys {@link EtcdKeys}', the client's session lease {@link
 * EtcdSession}'s, the watches' wake-ups {@link EtcdWatches}', registers {@link EtcdRegisters}' and
 * the operator calls {@link EtcdAdmin}'s. This class connects them and closes them.
 *
 * <p><b>Session.</b> One etcd lease per client ({@link EtcdSession}): if it is lost, every lease
 * of the client is reported lost and a later acquire gets a new etcd lease. Keys of abandoned
 * waits that could not be deleted at once are deleted later ({@link AbandonedWaits}). A grant with a
 * lease timeout moves its key to an etcd lease of its own (the confirming write), which the
 * client's watchdog renews.
 *
 * <p><b>A failure story.</b> etcd does not answer when the client opens: granting the session lease
 * fails within the connect timeout with {@link UnavailableException}, before any key is written,
 * and {@link EtcdProvider} closes the jetcd client.
 */
final class EtcdBackend implements StoreBackend {
    private static final Logger log = LoggerFactory.getLogger(EtcdBackend.class);

    /** What every client gives, whatever the cluster's size. */
    static final Set<Capability> CAPABILITIES = Set.copyOf(EnumSet.of(
            Capability.FAIR_QUEUE,
            Capability.READ_WRITE,
            Capability.SEMAPHORE,
            Capability.LEASE_TIMEOUT,
            Capability.CHECK_FENCE,
            Capability.INSPECT,
            Capability.REGISTERS,
            Capability.FENCED_REGISTERS,
            Capability.KEYS,
            Capability.SESSION_KEYS,
            Capability.KEY_TTL,
            Capability.TRANSACTIONS));

    private static final SecureRandom RANDOM = new SecureRandom();

    private final Client client;
    private final KV kv;
    private final io.etcd.jetcd.Lease leases;
    private final Calls calls;
    private final EtcdKeys keys;
    private final String sessionId;
    private final EtcdSession sessions;
    private final AbandonedWaits abandoned;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Set<Capability> capabilities;
    private final EtcdWatches watches;
    private final Grants grants;
    private final Acquirer acquirer;
    /** Where the keys' watches time their pauses: the client's scheduler, else the keep-alive's. */
    private final ScheduledExecutorService watchTimers;

    /**
     * Connects: grants the session lease, which also proves that etcd answers.
     *
     * @throws UnavailableException if etcd does not answer within the connect timeout
     */
    EtcdBackend(Client client, EtcdUri uri, ClientOptions options) {
        this.client = client;
        this.kv = client.getKVClient();
        this.leases = client.getLeaseClient();
        this.calls = new Calls(options.requestTimeout(), String.join(",", uri.endpoints()));
        this.keys = new EtcdKeys(uri.namespace().getBytes(StandardCharsets.UTF_8));
        byte[] id = new byte[16];
        RANDOM.nextBytes(id);
        this.sessionId = HexFormat.of().formatHex(id);
        String tag = sessionId.substring(0, 8);
        this.sessions = new EtcdSession(leases, options, calls, "holdfast-etcd-keepalive-" + tag);
        this.abandoned = new AbandonedWaits(kv, calls, "holdfast-etcd-cleanup-" + tag);
        this.capabilities = membersAtOpen(client) >= 3 ? withNodeFailure() : CAPABILITIES;
        Watch watch = client.getWatchClient();
        this.watches = new EtcdWatches(watch, keys::watched, options.ticker());
        this.grants = new Grants(kv, leases, options, calls);
        this.acquirer = new Acquirer(kv, watch, options, calls, keys, sessionId, sessions, abandoned, grants);
        this.watchTimers = options.scheduler().orElseGet(sessions::timers);
    }

    /**
     * A cluster of three or more members keeps every lock through the loss of one (etcd's Raft
     * majority); one or two members do not. Counted once, when the client opens; 0 if etcd would
     * not say (then nothing is claimed).
     */
    private int membersAtOpen(Client client) {
        try {
            return calls.await(
                            "listing the cluster's members",
                            () -> client.getClusterClient().listMember())
                    .getMembers()
                    .size();
        } catch (UnavailableException e) {
            log.debug("etcd did not list its members; not claiming to survive a member's loss", e);
            return 0;
        }
    }

    private static Set<Capability> withNodeFailure() {
        EnumSet<Capability> all = EnumSet.copyOf(CAPABILITIES);
        all.add(Capability.SURVIVES_NODE_FAILURE);
        return Set.copyOf(all);
    }

    @Override
    public String provider() {
        return "etcd";
    }

    @Override
    public Set<Capability> capabilities() {
        return capabilities;
    }

    @Override
    public String sessionId() {
        return sessionId;
    }

    @Override
    public void start(LossSink sink) {
        sessions.reportTo(sink);
    }

    /**
     * Until when, on the client's clock, etcd cannot have expired this client's session lease, and
     * with it the grants on it ({@link EtcdSession#validUntilNanos()}): the sending of the latest
     * keep-alive (or grant) etcd acknowledged plus the TTL it reported, less a margin for clock rate
     * drift. The keep-alive thread reports every grant lost once it has passed. Cheap, and takes no
     * lock: the moment for a lease's {@code isValid()} to read.
     */
    @Override
    public long validUntilNanos() {
        return sessions.validUntilNanos();
    }

    // ------------------------------------------------------------------ locks

    @Override
    public Optional<Grant> tryAcquire(LockRequest request) {
        return acquirer.tryAcquire(request);
    }

    @Override
    public Optional<Grant> acquire(LockRequest request, Deadline deadline) throws InterruptedException {
        return acquirer.acquire(request, deadline);
    }

    @Override
    public Duration renewEvery(Grant grant) {
        return grants.renewEvery(grant);
    }

    /**
     * A grant on its own lease is renewed in etcd; a grant on the session lease is as alive as the
     * session, which the keep-alive thread watches, so it is answered without a call.
     */
    @Override
    public boolean renew(Grant grant) {
        return grants.renew(grant);
    }

    @Override
    public boolean release(Grant grant) {
        return grants.release(grant);
    }

    // ------------------------------------------------------------------ watches, registers, admin

    /** Sleeps until an etcd watch of what {@code target} follows has an event ({@link EtcdWatches}). */
    @Override
    public void awaitWatched(io.holdfast.WatchTarget target, long maxNanos) throws InterruptedException {
        watches.await(target, maxNanos);
    }

    EtcdWatches watches() {
        return watches;
    }

    @Override
    public io.holdfast.store.StoreRegisters registers() {
        return new EtcdRegisters(kv, calls, keys.namespace());
    }

    @Override
    public io.holdfast.Keys keys() {
        return keys(io.holdfast.Keys.MAX_KEYS_PER_SESSION);
    }

    /** The keys, with at most {@code perSession} attached to the session (tests take fewer than the API's limit). */
    io.holdfast.Keys keys(int perSession) {
        KeySpace space = new KeySpace(keys.namespace());
        KeyCommit commits = new KeyCommit(kv, calls, space, keys, sessionId, new KeyLeases(), perSession);
        return new EtcdKeyValues(kv, client.getWatchClient(), calls, space, commits, sessionId, watchTimers);
    }

    /** The leases keys live on: the session's, or one of a key's own for its time to live. */
    private final class KeyLeases implements KeyPlan.Leases {
        @Override
        public long session() {
            return sessions.current().leaseId;
        }

        @Override
        public long live() {
            return sessions.liveLeaseId();
        }

        @Override
        public long grant(Duration ttl) {
            long seconds = Math.max(1, (ttl.toMillis() + 999) / 1000);
            return calls.await("granting a key's lease", () -> leases.grant(seconds))
                    .getID();
        }

        @Override
        public void revoke(long leaseId) {
            try {
                leases.revoke(leaseId).exceptionally(e -> null);
            } catch (RuntimeException e) {
                log.debug("revoking etcd lease {} failed; it expires by itself", Long.toHexString(leaseId), e);
            }
        }
    }

    @Override
    public Admin admin() {
        return new EtcdAdmin(kv, leases, calls, keys);
    }

    // ------------------------------------------------------------------ crash and close

    @Override
    public void abandon() {
        watches.close();
        calls.stop();
        sessions.abandon();
        abandoned.close();
        closeClient();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        abandoned.close();
        sessions.close();
        watches.close();
        calls.stop();
        closeClient();
    }

    private void closeClient() {
        try {
            client.close();
        } catch (RuntimeException e) {
            log.debug("closing the etcd client failed", e);
        }
    }
}
