package io.holdfast.zookeeper;

import io.holdfast.Admin;
import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.UnavailableException;
import io.holdfast.internal.DaemonThreads;
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
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ZooKeeper store: one Curator client (one ZooKeeper session) per Holdfast client, and for every
 * lock a queue of ephemeral sequential nodes under {@code CHROOT/locks/ENCODED-NAME} ({@link
 * LockNodes}). How a lock is acquired, renewed and released is {@link Locks}'; the holdings and
 * their losses {@link Holdings}', the watches' wake-ups {@link ZooKeeperWatches}', registers {@link
 * ZooKeeperRegisters}', keys {@link ZooKeeperKeys}' and the operator calls {@link ZooKeeperAdmin}'s. This class connects them
 * and closes them.
 *
 * <p>Curator's own lock recipes do not fit: {@code InterProcessMutex} and {@code
 * InterProcessReadWriteLock} are reentrant per thread and must be released by the acquiring thread,
 * while a Holdfast lease belongs to one acquire and may be released by any thread; {@code
 * InterProcessSemaphoreV2} serialises acquirers through such a mutex and keeps no kind or size that
 * other clients could check. The queue here is Curator's {@code LockInternals} idea (ephemeral
 * sequential nodes, watch the predecessor) with per-acquire ownership, one queue shared by all
 * modes, and zxid tokens. Curator supplies the connection, namespaces, container parents and
 * guaranteed deletes.
 *
 * <p><b>Losses.</b> The grant lives as long as the node, that is the session: {@link #renewEvery}
 * is null. A lease is reported lost when its node is deleted (an operator revoked it), when Curator
 * reports the session LOST, when the connection has been down for a quarter of the session
 * timeout, and in any case once the session's contact lapses ({@link SessionContact}, checked by
 * {@link SessionWatch}): the server may expire the session one timeout after it last heard from the
 * client, and the contact ends a margin before the earliest such moment, so the holder is told
 * before anybody else can be granted. If the session survives after all, the backend deletes those
 * nodes itself.
 */
final class ZooKeeperBackend implements StoreBackend {
    private static final Logger log = LoggerFactory.getLogger(ZooKeeperBackend.class);
    static final String LOCKS = "/locks";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final ZooKeeperUri uri;
    private final ClientOptions options;
    private final String sessionId;
    private final Zk zk;
    private final Ensemble ensemble;
    private final CuratorFramework curator;
    private final ScheduledExecutorService timers;
    private final Holdings holdings;
    private final LockNodes nodes;
    private final Orphans orphans;
    private final Locks locks;
    private final ZooKeeperWatches watches;
    private final SessionContact contact;
    private final SessionWatch sessionWatch;
    private volatile boolean abandoned;
    /** Whether the server makes TTL nodes ({@code zookeeper.extendedTypesEnabled}), found at open. */
    private volatile boolean ttlNodes;

    private ZooKeeperBackend(ZooKeeperUri uri, ClientOptions options) {
        this.uri = uri;
        this.options = options;
        byte[] id = new byte[16];
        RANDOM.nextBytes(id);
        this.sessionId = HexFormat.of().formatHex(id);
        this.zk = new Zk(options.requestTimeout());
        this.ensemble = new Ensemble(uri.connectString());
        int ttl = (int) options.sessionTtl().toMillis();
        int requestMillis = (int) options.requestTimeout().toMillis();
        CuratorFrameworkFactory.Builder builder = CuratorFrameworkFactory.builder();
        if (uri.authenticated()) {
            // Digest authentication, and every node this client creates (the chroot, each lock's
            // parent, the queue nodes) readable and writable only by that user: ZooKeeper checks a
            // delete against the parent's ACL, so another user, or a client without credentials,
            // can neither delete nor change a holder's node.
            builder.authorization("digest", (uri.user() + ":" + uri.password()).getBytes(StandardCharsets.UTF_8))
                    .aclProvider(new CreatorOnly());
        }
        this.curator = builder.ensembleProvider(ensemble)
                .ensembleTracker(false)
                .namespace(uri.chroot().substring(1))
                .sessionTimeoutMs(ttl)
                .connectionTimeoutMs(requestMillis)
                // Holdfast retries whole requests (same owner, found again by name); a Curator retry of a
                // sequential create could make a second node.
                .retryPolicy(new RetryNTimes(0, 0))
                .zookeeperFactory((connectString, sessionTimeout, watcher, canBeReadOnly) -> {
                    ZKClientConfig config = new ZKClientConfig();
                    config.setProperty(ZKClientConfig.ZOOKEEPER_REQUEST_TIMEOUT, Integer.toString(requestMillis));
                    return new ZooKeeper(connectString, sessionTimeout, watcher, canBeReadOnly, config);
                })
                .build();
        this.timers = Executors.newSingleThreadScheduledExecutor(
                DaemonThreads.named("holdfast-zookeeper-" + sessionId.substring(0, 8)));
        this.holdings = new Holdings(curator, zk, timers, ttl / 4, this::wakeWaiters);
        this.watches = new ZooKeeperWatches(curator, options.ticker());
        this.nodes = new LockNodes(curator, zk, () -> abandoned);
        this.orphans = new Orphans(options.ticker(), nodes);
        this.locks = new Locks(options, sessionId, zk, curator, nodes, holdings, orphans);
        this.contact = new SessionContact(options.ticker());
        this.sessionWatch = new SessionWatch(
                curator,
                options.ticker(),
                contact,
                holdings::allLost,
                () -> abandoned,
                "holdfast-zookeeper-session-" + sessionId.substring(0, 8));
    }

    /**
     * Nodes that only the user who created them may read, change or delete under: ZooKeeper's
     * {@code CREATOR_ALL_ACL} (all permissions for the "auth" scheme, which stands for the ids the
     * creating session authenticated with), written out because {@code ZooDefs.Ids} carries
     * annotations whose classes the build does not have.
     */
    private static final class CreatorOnly implements org.apache.curator.framework.api.ACLProvider {
        // Not List.of: ZooKeeper's client asks the list whether it contains null, which List.of refuses.
        private static final List<org.apache.zookeeper.data.ACL> CREATOR_ALL =
                java.util.Collections.singletonList(new org.apache.zookeeper.data.ACL(
                        org.apache.zookeeper.ZooDefs.Perms.ALL, new org.apache.zookeeper.data.Id("auth", "")));

        @Override
        public List<org.apache.zookeeper.data.ACL> getDefaultAcl() {
            return CREATOR_ALL;
        }

        @Override
        public List<org.apache.zookeeper.data.ACL> getAclForPath(String path) {
            return CREATOR_ALL;
        }
    }

    /**
     * Connects to the ensemble and waits for the session.
     *
     * @throws UnavailableException if no server answers within the connect timeout
     */
    static ZooKeeperBackend connect(ZooKeeperUri uri, ClientOptions options) {
        ZooKeeperBackend backend = new ZooKeeperBackend(uri, options);
        backend.open();
        return backend;
    }

    private void open() {
        Duration wait = uri.connectTimeout() != null ? uri.connectTimeout() : options.connectTimeout();
        // Curator retries an address nobody listens on until the wait is over and then says only
        // that it could not connect; asking first names the reason, at once.
        String none = io.holdfast.internal.Reachability.noneAccepts(
                java.util.Arrays.asList(uri.connectString().split(",")), wait);
        if (none != null) {
            close();
            throw new UnavailableException("zookeeper: cannot reach " + uri.describe() + ": " + none);
        }
        curator.getConnectionStateListenable().addListener(holdings);
        curator.getConnectionStateListenable().addListener(sessionWatch);
        // Before the session is asked for: the server makes it after this moment.
        long startedNanos = options.ticker().nanos();
        curator.start();
        boolean connected;
        try {
            connected = curator.blockUntilConnected((int) wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            connected = false;
        }
        if (!connected) {
            // Closed in the background: a server that took the connection but never answered makes
            // ZooKeeper's close wait for the reply to its close-session request, seconds past the
            // connect timeout that bounds this open (measured: 10 s with a 1 s connect timeout).
            DaemonThreads.thread(this::close, "holdfast-zookeeper-close").start();
            throw new UnavailableException(
                    "zookeeper: could not connect to " + uri.describe() + " within " + wait.toMillis() + " ms");
        }
        ZooKeeper handle = Holdings.handle(curator);
        if (handle != null) {
            long ttl = options.sessionTtl().toMillis();
            int negotiated = handle.getSessionTimeout();
            long timeout = negotiated > 0 ? Math.min(negotiated, ttl) : ttl;
            holdings.connected(handle.getSessionId(), timeout / 4);
            contact.begin(handle.getSessionId(), negotiated > 0 ? negotiated : ttl, startedNanos);
            sessionWatch.start(negotiated > 0 ? negotiated : ttl);
            if (negotiated > 0 && negotiated != ttl) {
                log.warn(
                        "zookeeper: asked for a session timeout of {} ms, the server granted {} ms"
                                + " (its minSessionTimeout/maxSessionTimeout); crashed holders are released after that",
                        ttl,
                        negotiated);
            }
        }
        timers.scheduleWithFixedDelay(this::sweep, 1, 1, TimeUnit.SECONDS);
        try {
            ttlNodes = ZooKeeperKeys.prepare(curator, zk, sessionId);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public String provider() {
        return "zookeeper";
    }

    /**
     * Fair queues, read-write locks, semaphores and the operator calls; {@code SURVIVES_NODE_FAILURE}
     * for an ensemble of three or more servers (ZooKeeperEnsembleTest); keys, keys attached to the
     * session and transactions ({@link ZooKeeperKeys}), and keys with a time to live where the server
     * makes TTL nodes (found when the client opens). No lease timeouts: a grant lives as long as its
     * session.
     */
    @Override
    public Set<Capability> capabilities() {
        EnumSet<Capability> all = EnumSet.of(
                Capability.FAIR_QUEUE,
                Capability.READ_WRITE,
                Capability.SEMAPHORE,
                Capability.INSPECT,
                Capability.CHECK_FENCE,
                Capability.REVOKE,
                Capability.REGISTERS,
                Capability.FENCED_REGISTERS,
                Capability.SURVIVES_NODE_FAILURE,
                Capability.KEYS,
                Capability.SESSION_KEYS,
                Capability.TRANSACTIONS);
        if (ttlNodes) {
            all.add(Capability.KEY_TTL);
        }
        return all;
    }

    @Override
    public io.holdfast.Keys keys() {
        return keys(io.holdfast.Keys.MAX_KEYS_PER_SESSION);
    }

    /** The keys, with at most {@code perSession} attached to the session (tests take fewer than the API's limit). */
    io.holdfast.Keys keys(int perSession) {
        ScheduledExecutorService pauses = options.scheduler().orElse(timers); // the client's timers, else ours
        return ZooKeeperKeys.of(curator, zk, holdings, watches::await, () -> !abandoned, sessionId, perSession, pauses);
    }

    @Override
    public io.holdfast.store.StoreRegisters registers() {
        return new ZooKeeperRegisters(curator, zk);
    }

    @Override
    public String sessionId() {
        return sessionId;
    }

    @Override
    public void start(LossSink sink) {
        holdings.start(sink);
    }

    /**
     * Until when, on the client's clock, the ZooKeeper session is sure to live, and with it every
     * grant of this client ({@link SessionContact}): the sending of the latest request the server
     * answered plus the negotiated session timeout, less a margin for clock rate drift. Past it the
     * server may expire the session and give its locks to others; {@link SessionWatch} reports every
     * grant lost by then. Cheap, and takes no lock an engine thread could hold: the moment for a
     * lease's {@code isValid()} to read.
     */
    @Override
    public long validUntilNanos() {
        return contact.validUntilNanos();
    }

    // ------------------------------------------------------------------------------ locks

    @Override
    public Optional<Grant> tryAcquire(LockRequest request) {
        checkUsable();
        return locks.tryAcquire(request);
    }

    @Override
    public Optional<Grant> acquire(LockRequest request, Deadline deadline) throws InterruptedException {
        checkUsable();
        return locks.acquire(request, deadline);
    }

    @Override
    public Duration renewEvery(Grant grant) {
        return null; // the node lives as long as the session, which ZooKeeper's client keeps alive
    }

    @Override
    public boolean renew(Grant grant) {
        checkUsable();
        return locks.renew(grant);
    }

    @Override
    public boolean release(Grant grant) {
        checkUsable();
        return locks.release(grant);
    }

    // ------------------------------------------------------------------------------ watches, admin

    @Override
    public Admin admin() {
        return new ZooKeeperAdmin(curator, zk, nodes);
    }

    /** Sleeps until a persistent ZooKeeper watch of what {@code target} follows fires ({@link ZooKeeperWatches}). */
    @Override
    public void awaitWatched(io.holdfast.WatchTarget target, long maxNanos) throws InterruptedException {
        watches.await(target, maxNanos);
    }

    ZooKeeperWatches watches() {
        return watches;
    }

    // ------------------------------------------------------------------------------ the session

    /** The connection was lost or is back: every waiter decides again (its node's watch may not fire). */
    private void wakeWaiters() {
        locks.wakeAll();
    }

    /** Deletes the nodes of attempts that failed and were not retried in time. */
    private void sweep() {
        if (!abandoned) {
            orphans.sweep();
        }
    }

    // ------------------------------------------------------------------------------ crash and close

    private void checkUsable() {
        if (abandoned) {
            throw new UnavailableException("zookeeper: the client has crashed (test)");
        }
    }

    /**
     * Simulates the death of the process: the connection is cut without a closeSession request, and
     * every later connection attempt goes to a dead address, so the server expires the session after
     * its timeout, exactly as for a process that died. The client finds out by itself (the loss timer
     * of a disconnected session).
     */
    @Override
    public void abandon() {
        abandoned = true;
        holdings.abandon();
        ensemble.cutOff();
        ZooKeeper handle = Holdings.handle(curator);
        if (handle != null) {
            try {
                handle.updateServerList(Ensemble.NOWHERE);
                handle.getTestable().closeSocket();
            } catch (Exception e) {
                log.debug("zookeeper: cutting the connection off", e);
            }
        }
        wakeWaiters();
        watches.close();
    }

    /** Closes the session: unless the client crashed, ZooKeeper deletes its nodes at once. */
    @Override
    public void close() {
        watches.close();
        sessionWatch.close();
        timers.shutdownNow();
        try {
            curator.close();
        } catch (RuntimeException e) {
            log.debug("zookeeper: closing Curator", e);
        }
    }
}
