// Over 400 lines: every ZooKeeper primitive of the store SPI over one Curator client; the queue rule
// is Queue, the node names QueueNode, the holdings Holdings, the watches' wake-ups ZooKeeperWatches.
// Not split further yet (issue 19).
package io.holdfast.zookeeper;

import io.holdfast.Admin;
import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.InvalidArgumentException;
import io.holdfast.UnavailableException;
import io.holdfast.store.Deadline;
import io.holdfast.store.Grant;
import io.holdfast.store.LockRequest;
import io.holdfast.store.LossSink;
import io.holdfast.store.StoreBackend;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ZooKeeper store: one Curator client (one ZooKeeper session) per Holdfast client, and for every
 * lock a queue of ephemeral sequential nodes under {@code CHROOT/locks/ENCODED-NAME}.
 *
 * <p><b>For maintainers.</b> An attempt creates its node (named after its owner, see {@link
 * QueueNode}), lists the queue and lets {@link Queue} decide: it holds, it waits, or it is refused.
 * A waiter sets one-shot watches on the nodes {@link Queue} names (its predecessor, usually) and
 * decides again when one fires: no polling, no herd. A grant's fencing token is a zxid: the creation
 * zxid of the node if the queue has not changed since the node was created (it held from its first
 * moment), otherwise the zxid of a write to its own node made when it found it holds. Either way the
 * token is the zxid of the step that made it the holder, so tokens grow in grant order across every
 * name of the ensemble and survive restarts (zxids never go back).
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
 * reports the session LOST, and already when the connection has been down for a quarter of the
 * session timeout: ZooKeeper notices a silent server after two thirds of the timeout, and the server
 * may expire the session one timeout after it last heard from the client, so the holder is told
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
    private final Set<Attempt> waiting = ConcurrentHashMap.newKeySet();
    private final Holdings holdings;
    private final Orphans orphans;
    private final ZooKeeperWatches watches;
    private volatile boolean abandoned;

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
        this.timers = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "holdfast-zookeeper-" + sessionId.substring(0, 8));
            t.setDaemon(true);
            return t;
        });
        this.holdings = new Holdings(curator, zk, timers, ttl / 4, this::wakeAll);
        this.watches = new ZooKeeperWatches(curator, options.ticker());
        this.orphans = new Orphans(options.ticker(), new Orphans.Store() {
            @Override
            public String findOwned(String parent, String owner) {
                return ZooKeeperBackend.this.findOwned(parent, owner);
            }

            @Override
            public void removeQuietly(String path) {
                ZooKeeperBackend.this.removeQuietly(path);
            }
        });
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
        String none = io.holdfast.spi.Reachability.noneAccepts(
                java.util.Arrays.asList(uri.connectString().split(",")), wait);
        if (none != null) {
            close();
            throw new UnavailableException("zookeeper: cannot reach " + uri.describe() + ": " + none);
        }
        curator.getConnectionStateListenable().addListener(holdings);
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
            Thread closer = new Thread(this::close, "holdfast-zookeeper-close");
            closer.setDaemon(true);
            closer.start();
            throw new UnavailableException(
                    "zookeeper: could not connect to " + uri.describe() + " within " + wait.toMillis() + " ms");
        }
        ZooKeeper handle = Holdings.handle(curator);
        if (handle != null) {
            long ttl = options.sessionTtl().toMillis();
            int negotiated = handle.getSessionTimeout();
            long timeout = negotiated > 0 ? Math.min(negotiated, ttl) : ttl;
            holdings.connected(handle.getSessionId(), timeout / 4);
            if (negotiated > 0 && negotiated != ttl) {
                log.warn(
                        "zookeeper: asked for a session timeout of {} ms, the server granted {} ms"
                                + " (its minSessionTimeout/maxSessionTimeout); crashed holders are released after that",
                        ttl,
                        negotiated);
            }
        }
        timers.scheduleWithFixedDelay(this::sweep, 1, 1, TimeUnit.SECONDS);
    }

    @Override
    public String provider() {
        return "zookeeper";
    }

    /**
     * Fair queues, read-write locks, semaphores and the operator calls; {@code SURVIVES_NODE_FAILURE}
     * for an ensemble of three or more servers (ZooKeeperEnsembleTest). No lease timeouts: a grant
     * lives as long as its session.
     */
    @Override
    public Set<Capability> capabilities() {
        return EnumSet.of(
                Capability.FAIR_QUEUE,
                Capability.READ_WRITE,
                Capability.SEMAPHORE,
                Capability.INSPECT,
                Capability.CHECK_FENCE,
                Capability.REVOKE,
                Capability.REGISTERS,
                Capability.FENCED_REGISTERS,
                Capability.SURVIVES_NODE_FAILURE);
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

    // ------------------------------------------------------------------------------ acquiring

    @Override
    public Optional<Grant> tryAcquire(LockRequest request) {
        checkUsable();
        String parent = parent(request.name());
        Orphans.Entry retry = orphans.claim(request.owner());
        if (retry == null) {
            // Look before writing: a busy lock answers without a node being created and deleted.
            List<QueueNode> queue = new ArrayList<>(queue(parent));
            queue.add(new QueueNode("", Long.MAX_VALUE, request.mode(), request.permits(), request.maxPermits(), ""));
            Queue.Decision d = Queue.decide(request.name(), queue, queue.size() - 1);
            if (d instanceof Queue.Refused refused) {
                throw new InvalidArgumentException(refused.why());
            }
            if (d instanceof Queue.Waits) {
                return Optional.empty();
            }
        }
        Attempt a = enqueue(request, parent, 0, retry, options.ticker().nanos());
        try {
            Round round = round(a);
            if (round.decision() instanceof Queue.Holds) {
                return Optional.of(grant(a, round.pzxid()));
            }
            remove(a);
            if (round.decision() instanceof Queue.Refused refused) {
                throw new InvalidArgumentException(refused.why());
            }
            return Optional.empty();
        } catch (UnavailableException e) {
            orphans.add(orphan(a, options.ticker().nanos()));
            throw e;
        }
    }

    @Override
    public Optional<Grant> acquire(LockRequest request, Deadline deadline) throws InterruptedException {
        checkUsable();
        if (Thread.interrupted()) {
            throw new InterruptedException("interrupted before queueing for " + request.describe());
        }
        String parent = parent(request.name());
        long sweepAfter = options.ticker().nanos() + Math.max(0, deadline.remainingNanos());
        long waitMillis = TimeUnit.NANOSECONDS.toMillis(Math.max(0, deadline.remainingNanos()));
        Attempt a = enqueue(request, parent, waitMillis, orphans.claim(request.owner()), sweepAfter);
        waiting.add(a);
        try {
            while (true) {
                if (Thread.interrupted()) {
                    throw new InterruptedException("interrupted while waiting for " + request.describe());
                }
                Round round = round(a);
                if (round.decision() instanceof Queue.Holds) {
                    return Optional.of(grant(a, round.pzxid()));
                }
                if (round.decision() instanceof Queue.Refused refused) {
                    remove(a);
                    throw new InvalidArgumentException(refused.why());
                }
                a.waited = true;
                boolean changed = watch(a, ((Queue.Waits) round.decision()).watch());
                long remaining = deadline.remainingNanos();
                if (remaining <= 0) {
                    remove(a);
                    return Optional.empty();
                }
                if (!changed) {
                    a.wake.tryAcquire(Math.min(remaining, options.sessionTtl().toNanos()), TimeUnit.NANOSECONDS);
                }
                a.wake.drainPermits();
            }
        } catch (InterruptedException e) {
            remove(a);
            throw e;
        } catch (UnavailableException e) {
            // The client may retry with the same owner; until the deadline the node waits for it.
            orphans.add(orphan(a, sweepAfter));
            throw e;
        } catch (RuntimeException | Error e) {
            remove(a);
            throw e;
        } finally {
            waiting.remove(a);
        }
    }

    /** Puts a node for the request in the queue, or finds the one an earlier try of the same owner made. */
    private Attempt enqueue(LockRequest request, String parent, long waitMillis, Orphans.Entry retry, long sweepAfter) {
        Attempt a = new Attempt(request, parent, new NodeData(sessionId, options.clientName(), waitMillis).encode());
        if (retry != null) {
            String path = retry.path();
            try {
                if (path == null) {
                    path = findOwned(parent, request.owner());
                }
                if (path != null) {
                    String p = path;
                    CuratorEvent ev = zk.call(
                            "looking for the node of " + request.describe(),
                            cb -> curator.checkExists().inBackground(cb).forPath(p),
                            Code.NONODE);
                    if (ev.getStat() != null) {
                        a.path = path;
                        a.czxid = ev.getStat().getCzxid();
                        a.waited = true;
                        return a;
                    }
                }
            } catch (UnavailableException e) {
                orphans.add(retry);
                throw e;
            }
        }
        String what = "queueing for " + request.describe();
        CompletableFuture<CuratorEvent> create = zk.start(
                what,
                cb -> curator.create()
                        .creatingParentContainersIfNeeded()
                        .withMode(CreateMode.EPHEMERAL_SEQUENTIAL)
                        .inBackground(cb)
                        .forPath(parent + "/" + QueueNode.prefix(request), a.data));
        CuratorEvent ev;
        try {
            ev = zk.await(what, create);
        } catch (UnavailableException e) {
            orphans.add(new Orphans.Entry(parent, request.owner(), null, create, sweepAfter));
            throw e;
        }
        a.path = parent + "/" + ZKPaths.getNodeFromPath(ev.getName());
        if (ev.getStat() != null && ev.getStat().getCzxid() > 0) {
            a.czxid = ev.getStat().getCzxid();
        } else {
            Stat stat = zk.call(
                            "reading " + a.path,
                            cb -> curator.checkExists().inBackground(cb).forPath(a.path))
                    .getStat();
            a.czxid = stat == null ? -1 : stat.getCzxid();
        }
        return a;
    }

    private record Round(Queue.Decision decision, long pzxid) {}

    /** Lists the queue and decides for the attempt's node. */
    private Round round(Attempt a) {
        CuratorEvent ev = zk.call(
                "reading the queue of " + a.request.name(),
                cb -> curator.getChildren().inBackground(cb).forPath(a.parent),
                Code.NONODE);
        List<QueueNode> queue = sorted(ev.getChildren());
        String mine = ZKPaths.getNodeFromPath(a.path);
        for (int i = 0; i < queue.size(); i++) {
            if (queue.get(i).name().equals(mine)) {
                long pzxid = ev.getStat() == null ? -1 : ev.getStat().getPzxid();
                return new Round(Queue.decide(a.request.name(), queue, i), pzxid);
            }
        }
        throw new UnavailableException("zookeeper: the queue node of " + a.request.describe()
                + " is gone (the ZooKeeper session ended); the request is queued again if retried");
    }

    /** Makes the attempt's node the grant, with its token. */
    private Grant grant(Attempt a, long pzxid) {
        long token;
        if (!a.waited && pzxid == a.czxid && a.czxid > 0) {
            token = a.czxid; // nothing left or joined the queue since the node was made: it held from then on
        } else {
            CuratorEvent ev = zk.call(
                    "recording the grant of " + a.request.describe(),
                    cb -> curator.setData().inBackground(cb).forPath(a.path, a.data),
                    Code.NONODE);
            if (ev.getStat() == null || Zk.code(ev) == Code.NONODE) {
                throw new UnavailableException(
                        "zookeeper: the node of " + a.request.describe() + " vanished as it was granted");
            }
            token = ev.getStat().getMzxid();
        }
        Grant grant = new Grant(a.request, token, a.path);
        holdings.add(grant);
        return grant;
    }

    /** Watches the nodes a waiter depends on; true if one of them is gone already. */
    private boolean watch(Attempt a, List<QueueNode> nodes) {
        for (QueueNode n : nodes) {
            String path = a.parent + "/" + n.name();
            CuratorEvent ev = zk.call(
                    "watching " + path,
                    cb -> curator.checkExists()
                            .usingWatcher(a.watcher)
                            .inBackground(cb)
                            .forPath(path),
                    Code.NONODE);
            if (ev.getStat() == null) {
                return true;
            }
        }
        return false;
    }

    // ------------------------------------------------------------------------------ releasing

    @Override
    public Duration renewEvery(Grant grant) {
        return null; // the node lives as long as the session, which ZooKeeper's client keeps alive
    }

    @Override
    public boolean renew(Grant grant) {
        checkUsable();
        String path = (String) grant.handle();
        CuratorEvent ev = zk.call(
                "checking " + path, cb -> curator.checkExists().inBackground(cb).forPath(path), Code.NONODE);
        return ev.getStat() != null && holdings.holds(grant);
    }

    @Override
    public boolean release(Grant grant) {
        checkUsable();
        String path = (String) grant.handle();
        boolean mine = holdings.remove(grant);
        CuratorEvent ev = zk.call(
                "releasing " + grant.request().describe(),
                cb -> curator.delete().guaranteed().inBackground(cb).forPath(path),
                Code.NONODE);
        return mine && Zk.code(ev) == Code.OK;
    }

    /** Deletes the attempt's node, if any; a failed delete is retried by Curator in the background. */
    private void remove(Attempt a) {
        if (a.path != null) {
            removeQuietly(a.path);
        }
    }

    private void removeQuietly(String path) {
        if (abandoned) {
            return;
        }
        try {
            zk.call(
                    "removing " + path,
                    cb -> curator.delete().guaranteed().inBackground(cb).forPath(path),
                    Code.NONODE);
        } catch (UnavailableException e) {
            log.debug("zookeeper: removing {} failed; Curator retries it in the background", path, e);
        }
    }

    // ------------------------------------------------------------------------------ the queue

    String parent(String name) {
        return LOCKS + "/" + QueueNode.encode(name);
    }

    /** The queue of the lock at {@code parent}, in sequence order. */
    List<QueueNode> queue(String parent) {
        CuratorEvent ev = zk.call(
                "reading " + parent,
                cb -> curator.getChildren().inBackground(cb).forPath(parent),
                Code.NONODE);
        return sorted(ev.getChildren());
    }

    private static List<QueueNode> sorted(List<String> children) {
        List<QueueNode> queue = new ArrayList<>();
        if (children != null) {
            for (String child : children) {
                QueueNode.parse(child).ifPresent(queue::add);
            }
        }
        queue.sort(QueueNode.BY_SEQUENCE);
        return queue;
    }

    private String findOwned(String parent, String owner) {
        for (QueueNode n : queue(parent)) {
            if (n.owner().equals(owner)) {
                return parent + "/" + n.name();
            }
        }
        return null;
    }

    CuratorFramework curator() {
        return curator;
    }

    Zk zk() {
        return zk;
    }

    @Override
    public Admin admin() {
        return new ZooKeeperAdmin(this);
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

    private void wakeAll() {
        for (Attempt a : waiting) {
            a.wake.release();
        }
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
        wakeAll();
        watches.close();
    }

    /** Closes the session: unless the client crashed, ZooKeeper deletes its nodes at once. */
    @Override
    public void close() {
        watches.close();
        timers.shutdownNow();
        try {
            curator.close();
        } catch (RuntimeException e) {
            log.debug("zookeeper: closing Curator", e);
        }
    }

    // ------------------------------------------------------------------------------ attempts

    /** One acquire's node and what its waiting needs. */
    private static final class Attempt {
        final LockRequest request;
        final String parent;
        final byte[] data;
        final Semaphore wake = new Semaphore(0);
        final Watcher watcher = event -> wake.release();
        volatile String path;
        volatile long czxid = -1;
        volatile boolean waited;

        Attempt(LockRequest request, String parent, byte[] data) {
            this.request = request;
            this.parent = parent;
            this.data = data;
        }
    }

    /** An attempt whose outcome the client may retry; its node is known. */
    private static Orphans.Entry orphan(Attempt a, long sweepAfterNanos) {
        return new Orphans.Entry(a.parent, a.request.owner(), a.path, null, sweepAfterNanos);
    }
}
