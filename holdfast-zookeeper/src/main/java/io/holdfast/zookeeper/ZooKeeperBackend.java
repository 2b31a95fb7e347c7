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
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.Watcher.Event.EventType;
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
final class ZooKeeperBackend implements StoreBackend, ConnectionStateListener {
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
    private final Map<String, Grant> held = new ConcurrentHashMap<>();
    private final Set<Attempt> waiting = ConcurrentHashMap.newKeySet();
    private final Map<String, Unresolved> unresolved = new ConcurrentHashMap<>();
    private volatile LossSink sink;
    private volatile boolean abandoned;
    private volatile long zkSession;
    private volatile long lossAfterMillis;
    private ScheduledFuture<?> lossTimer; // guarded by this

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
        this.lossAfterMillis = ttl / 4;
        this.curator = CuratorFrameworkFactory.builder()
                .ensembleProvider(ensemble)
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
        Duration wait = uri.connectTimeout() != null ? uri.connectTimeout() : options.requestTimeout();
        curator.getConnectionStateListenable().addListener(this);
        curator.start();
        boolean connected;
        try {
            connected = curator.blockUntilConnected((int) wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            connected = false;
        }
        if (!connected) {
            close();
            throw new UnavailableException(
                    "zookeeper: could not connect to " + uri.describe() + " within " + wait.toMillis() + " ms");
        }
        ZooKeeper handle = handle();
        if (handle != null) {
            zkSession = handle.getSessionId();
            int negotiated = handle.getSessionTimeout();
            if (negotiated > 0) {
                lossAfterMillis = Math.min(negotiated, options.sessionTtl().toMillis()) / 4;
                if (negotiated != options.sessionTtl().toMillis()) {
                    log.warn(
                            "zookeeper: asked for a session timeout of {} ms, the server granted {} ms"
                                    + " (its minSessionTimeout/maxSessionTimeout); crashed holders are released after that",
                            options.sessionTtl().toMillis(),
                            negotiated);
                }
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
                Capability.SURVIVES_NODE_FAILURE);
    }

    @Override
    public String sessionId() {
        return sessionId;
    }

    @Override
    public void start(LossSink sink) {
        this.sink = sink;
    }

    // ------------------------------------------------------------------------------ acquiring

    @Override
    public Optional<Grant> tryAcquire(LockRequest request) {
        checkUsable();
        String parent = parent(request.name());
        Unresolved retry = unresolved.remove(request.owner());
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
            unresolved.put(request.owner(), Unresolved.known(a, options.ticker().nanos()));
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
        Attempt a = enqueue(request, parent, waitMillis, unresolved.remove(request.owner()), sweepAfter);
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
            unresolved.put(request.owner(), Unresolved.known(a, sweepAfter));
            throw e;
        } catch (RuntimeException | Error e) {
            remove(a);
            throw e;
        } finally {
            waiting.remove(a);
        }
    }

    /** Puts a node for the request in the queue, or finds the one an earlier try of the same owner made. */
    private Attempt enqueue(LockRequest request, String parent, long waitMillis, Unresolved retry, long sweepAfter) {
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
                unresolved.put(request.owner(), retry);
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
            unresolved.put(request.owner(), new Unresolved(parent, request.owner(), null, create, sweepAfter));
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
        held.put(a.path, grant);
        watchHeld(grant);
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

    /** Tells the client when a held node is deleted by someone else (revoke) or with the session. */
    private void watchHeld(Grant grant) {
        String path = (String) grant.handle();
        Watcher watcher = new Watcher() {
            @Override
            public void process(org.apache.zookeeper.WatchedEvent event) {
                if (event.getType() == EventType.NodeDeleted) {
                    lose(grant, "its ZooKeeper node was deleted (an operator revoked it, or the session ended)");
                } else if (event.getType() != EventType.None && held.get(path) == grant) {
                    watchHeld(grant); // a one-shot watch that fired for something else: set it again
                }
            }
        };
        try {
            zk.start(
                            "watching " + path,
                            cb -> curator.checkExists()
                                    .usingWatcher(watcher)
                                    .inBackground(cb)
                                    .forPath(path))
                    .thenAccept(ev -> {
                        if (Zk.code(ev) == Code.NONODE) {
                            lose(grant, "its ZooKeeper node was deleted as it was granted");
                        }
                    });
        } catch (UnavailableException e) {
            log.debug("zookeeper: could not watch {}; the session's state reports its loss", path, e);
        }
    }

    private void lose(Grant grant, String why) {
        if (held.remove((String) grant.handle(), grant) && sink != null) {
            sink.lost(grant, why);
        }
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
        return ev.getStat() != null && held.get(path) == grant;
    }

    @Override
    public boolean release(Grant grant) {
        checkUsable();
        String path = (String) grant.handle();
        boolean mine = held.remove(path, grant);
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

    // ------------------------------------------------------------------------------ the session

    @Override
    public void stateChanged(CuratorFramework client, ConnectionState state) {
        switch (state) {
            case SUSPENDED -> startLossTimer();
            case RECONNECTED -> {
                stopLossTimer();
                ZooKeeper handle = handle();
                long now = handle == null ? 0 : handle.getSessionId();
                if (now != zkSession) {
                    zkSession = now;
                    allLost("the ZooKeeper session ended while the client was disconnected");
                }
            }
            case LOST -> {
                stopLossTimer();
                allLost("the ZooKeeper session expired");
            }
            default -> {}
        }
        for (Attempt a : waiting) {
            a.wake.release();
        }
    }

    private synchronized void startLossTimer() {
        if (lossTimer == null) {
            long after = lossAfterMillis;
            try {
                lossTimer = timers.schedule(
                        () -> {
                            synchronized (this) {
                                lossTimer = null;
                            }
                            allLost("disconnected from ZooKeeper for " + after
                                    + " ms, after which the server may expire the session");
                        },
                        after,
                        TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                // closing
            }
        }
    }

    private synchronized void stopLossTimer() {
        if (lossTimer != null) {
            lossTimer.cancel(false);
            lossTimer = null;
        }
    }

    /** Reports every grant lost and, if the session lives on after all, deletes their nodes. */
    private void allLost(String why) {
        List<String> paths = new ArrayList<>(held.keySet());
        held.clear();
        if (sink != null) {
            sink.allLost(why);
        }
        if (!abandoned) {
            for (String path : paths) {
                try {
                    zk.start(
                            "removing " + path,
                            cb -> curator.delete().guaranteed().inBackground(cb).forPath(path));
                } catch (UnavailableException e) {
                    log.debug("zookeeper: could not remove {}", path, e);
                }
            }
        }
    }

    private ZooKeeper handle() {
        try {
            return curator.getZookeeperClient().getZooKeeper();
        } catch (Exception e) {
            return null;
        }
    }

    /** Deletes the nodes of attempts that failed and were not retried in time. */
    private void sweep() {
        if (abandoned) {
            return;
        }
        long now = options.ticker().nanos();
        for (Unresolved u : unresolved.values()) {
            if (now - u.sweepAfterNanos() < 0
                    || (u.create() != null && !u.create().isDone())) {
                continue;
            }
            if (!unresolved.remove(u.owner(), u)) {
                continue;
            }
            try {
                String path = u.path() != null ? u.path() : findOwned(u.parent(), u.owner());
                if (path != null) {
                    removeQuietly(path);
                }
            } catch (UnavailableException | IllegalStateException e) {
                unresolved.putIfAbsent(u.owner(), u);
            }
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
        ensemble.cutOff();
        ZooKeeper handle = handle();
        if (handle != null) {
            try {
                handle.updateServerList(Ensemble.NOWHERE);
                handle.getTestable().closeSocket();
            } catch (Exception e) {
                log.debug("zookeeper: cutting the connection off", e);
            }
        }
        for (Attempt a : waiting) {
            a.wake.release();
        }
    }

    /** Closes the session: unless the client crashed, ZooKeeper deletes its nodes at once. */
    @Override
    public void close() {
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

    /**
     * An attempt that failed with {@link UnavailableException}: its node may exist. A retry of the
     * same owner adopts it; otherwise the sweeper deletes it once the attempt's deadline has passed.
     */
    private record Unresolved(
            String parent,
            String owner,
            String knownPath,
            CompletableFuture<CuratorEvent> create,
            long sweepAfterNanos) {
        static Unresolved known(Attempt a, long sweepAfterNanos) {
            return new Unresolved(a.parent, a.request.owner(), a.path, null, sweepAfterNanos);
        }

        String path() {
            if (knownPath != null) {
                return knownPath;
            }
            if (create != null && create.isDone()) {
                CuratorEvent ev = create.getNow(null);
                if (ev != null && Zk.code(ev) == Code.OK) {
                    return parent + "/" + ZKPaths.getNodeFromPath(ev.getName());
                }
            }
            return null;
        }
    }
}
