package io.holdfast.zookeeper;

import io.holdfast.ClientOptions;
import io.holdfast.InvalidArgumentException;
import io.holdfast.UnavailableException;
import io.holdfast.store.Deadline;
import io.holdfast.store.Grant;
import io.holdfast.store.LockRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;

/**
 * The lock operations of one ZooKeeper client ({@link ZooKeeperBackend}): acquiring, renewing and
 * releasing, over the queue nodes of {@link LockNodes}.
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
 * <p><b>A failure story.</b> The answer to a node's create is lost: the attempt fails with {@link
 * UnavailableException} and its node, if it was made, is an orphan ({@link Orphans}). A retry with
 * the same owner adopts it; without one, the node is deleted once the attempt's deadline passed, so
 * that it is never granted to nobody.
 */
final class Locks {
    private final ClientOptions options;
    private final String sessionId;
    private final Zk zk;
    private final CuratorFramework curator;
    private final LockNodes nodes;
    private final Holdings holdings;
    private final Orphans orphans;
    private final Set<Attempt> waiting = ConcurrentHashMap.newKeySet();

    Locks(
            ClientOptions options,
            String sessionId,
            Zk zk,
            CuratorFramework curator,
            LockNodes nodes,
            Holdings holdings,
            Orphans orphans) {
        this.options = options;
        this.sessionId = sessionId;
        this.zk = zk;
        this.curator = curator;
        this.nodes = nodes;
        this.holdings = holdings;
        this.orphans = orphans;
    }

    // ------------------------------------------------------------------------------ acquiring

    /** {@link io.holdfast.store.StoreBackend#tryAcquire}: looks first, queues only if the lock may be free. */
    Optional<Grant> tryAcquire(LockRequest request) {
        String parent = LockNodes.parent(request.name());
        Orphans.Entry retry = orphans.claim(request.owner());
        if (retry == null) {
            // Look before writing: a busy lock answers without a node being created and deleted.
            List<QueueNode> queue = new ArrayList<>(nodes.queue(parent));
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

    /** {@link io.holdfast.store.StoreBackend#acquire}: queues, and waits on watches until the node holds. */
    Optional<Grant> acquire(LockRequest request, Deadline deadline) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException("interrupted before queueing for " + request.describe());
        }
        String parent = LockNodes.parent(request.name());
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
                    path = nodes.findOwned(parent, request.owner());
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
        List<QueueNode> queue = LockNodes.sorted(ev.getChildren());
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

    boolean renew(Grant grant) {
        String path = (String) grant.handle();
        CuratorEvent ev = zk.call(
                "checking " + path, cb -> curator.checkExists().inBackground(cb).forPath(path), Code.NONODE);
        return ev.getStat() != null && holdings.holds(grant);
    }

    boolean release(Grant grant) {
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
            nodes.removeQuietly(a.path);
        }
    }

    /** Wakes every waiter: the connection was lost or is back, and a node's watch may not fire. */
    void wakeAll() {
        for (Attempt a : waiting) {
            a.wake.release();
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
