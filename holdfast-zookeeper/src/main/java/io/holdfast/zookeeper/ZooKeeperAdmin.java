package io.holdfast.zookeeper;

import io.holdfast.Admin;
import io.holdfast.HolderInfo;
import io.holdfast.LockInfo;
import io.holdfast.WaiterInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.data.Stat;

/**
 * The operator calls over the queues. {@code heldFor}, {@code waitingFor} and {@code timeLeft}
 * compare the nodes' creation and grant times (the server's wall clock) with this machine's wall
 * clock: they are for display and are as good as the clocks agree. Nothing decides on them.
 */
final class ZooKeeperAdmin implements Admin {
    private final CuratorFramework curator;
    private final Zk zk;
    private final LockNodes nodes;

    ZooKeeperAdmin(CuratorFramework curator, Zk zk, LockNodes nodes) {
        this.curator = curator;
        this.zk = zk;
        this.nodes = nodes;
    }

    @Override
    public List<LockInfo> locks(String prefix, int limit) {
        CuratorEvent ev = zk.call(
                "listing the locks",
                cb -> curator.getChildren().inBackground(cb).forPath(ZooKeeperBackend.LOCKS),
                Code.NONODE);
        List<String> names = new ArrayList<>();
        if (ev.getChildren() != null) {
            for (String child : ev.getChildren()) {
                try {
                    String name = QueueNode.decode(child);
                    if (name.startsWith(prefix)) {
                        names.add(name);
                    }
                } catch (IllegalArgumentException notOurs) {
                    // a node some other program put there
                }
            }
        }
        names.sort(null);
        List<LockInfo> infos = new ArrayList<>();
        for (String name : names) {
            if (infos.size() >= limit) {
                break;
            }
            describe(name).ifPresent(infos::add);
        }
        return infos;
    }

    @Override
    public Optional<LockInfo> describe(String name) {
        String parent = LockNodes.parent(name);
        List<QueueNode> queue = nodes.queue(parent);
        if (queue.isEmpty()) {
            return Optional.empty();
        }
        List<CompletableFuture<CuratorEvent>> reads = new ArrayList<>();
        for (QueueNode n : queue) {
            String path = parent + "/" + n.name();
            reads.add(zk.start(
                    "reading " + path, cb -> curator.getData().inBackground(cb).forPath(path)));
        }
        Set<QueueNode> holding = new HashSet<>(Queue.holders(name, queue));
        long now = System.currentTimeMillis(); // against the server's ctime/mtime, for display only
        List<HolderInfo> holders = new ArrayList<>();
        List<WaiterInfo> waiters = new ArrayList<>();
        for (int i = 0; i < queue.size(); i++) {
            QueueNode n = queue.get(i);
            CuratorEvent ev = zk.await("reading " + n.name(), reads.get(i), Code.NONODE);
            Stat stat = ev.getStat();
            if (stat == null || Zk.code(ev) == Code.NONODE) {
                continue; // left meanwhile
            }
            NodeData data = NodeData.decode(ev.getData());
            if (holding.contains(n)) {
                holders.add(new HolderInfo(
                        data.sessionId(),
                        data.clientName(),
                        n.mode(),
                        n.permits(),
                        stat.getMzxid(),
                        1,
                        Duration.ofMillis(Math.max(0, now - stat.getMtime())),
                        null));
            } else {
                long waited = Math.max(0, now - stat.getCtime());
                waiters.add(new WaiterInfo(
                        data.sessionId(),
                        data.clientName(),
                        n.mode(),
                        n.permits(),
                        Duration.ofMillis(waited),
                        Duration.ofMillis(Math.max(0, data.waitMillis() - waited))));
            }
        }
        if (holders.isEmpty() && waiters.isEmpty()) {
            return Optional.empty();
        }
        QueueNode head = queue.get(0);
        return Optional.of(new LockInfo(name, head.semaphore(), head.maxPermits(), holders, waiters));
    }

    /** Deletes the holders' nodes; their owners see the deletion through their watches. */
    @Override
    public int revoke(String name) {
        String parent = LockNodes.parent(name);
        int revoked = 0;
        for (QueueNode n : Queue.holders(name, nodes.queue(parent))) {
            String path = parent + "/" + n.name();
            CuratorEvent ev = zk.call(
                    "revoking " + path, cb -> curator.delete().inBackground(cb).forPath(path), Code.NONODE);
            if (Zk.code(ev) == Code.OK) {
                revoked++;
            }
        }
        return revoked;
    }

    /** Whether a node holding {@code name} now has this token (the zxid of its grant). */
    @Override
    public boolean isCurrentHolder(String name, long fencingToken) {
        String parent = LockNodes.parent(name);
        for (QueueNode n : Queue.holders(name, nodes.queue(parent))) {
            String path = parent + "/" + n.name();
            CuratorEvent ev = zk.call(
                    "reading " + path,
                    cb -> curator.checkExists().inBackground(cb).forPath(path),
                    Code.NONODE);
            if (ev.getStat() != null && ev.getStat().getMzxid() == fencingToken) {
                return true;
            }
        }
        return false;
    }
}
