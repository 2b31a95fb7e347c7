package io.holdfast.zookeeper;

import io.holdfast.UnavailableException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.zookeeper.KeeperException.Code;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queues of one ZooKeeper client's locks, as nodes: the queue of lock {@code name} is the
 * children of {@code CHROOT/locks/ENCODED-NAME} ({@link QueueNode}), read in sequence order, and a
 * node is deleted with Curator's guaranteed delete, which Curator retries in the background until
 * it succeeds or the session ends.
 *
 * <p>It decides nothing: {@link Queue} does, from what it reads. A client that has crashed ({@code
 * abandoned}) deletes nothing, as a dead process would not.
 */
final class LockNodes implements Orphans.Store {
    private static final Logger log = LoggerFactory.getLogger(LockNodes.class);

    private final CuratorFramework curator;
    private final Zk zk;
    private final BooleanSupplier abandoned;

    LockNodes(CuratorFramework curator, Zk zk, BooleanSupplier abandoned) {
        this.curator = curator;
        this.zk = zk;
        this.abandoned = abandoned;
    }

    /** The parent of lock {@code name}'s queue. */
    static String parent(String name) {
        return ZooKeeperBackend.LOCKS + "/" + QueueNode.encode(name);
    }

    /** The queue of the lock at {@code parent}, in sequence order. */
    List<QueueNode> queue(String parent) {
        CuratorEvent ev = zk.call(
                "reading " + parent,
                cb -> curator.getChildren().inBackground(cb).forPath(parent),
                Code.NONODE);
        return sorted(ev.getChildren());
    }

    /** The queue nodes among {@code children} (others are skipped), in sequence order. */
    static List<QueueNode> sorted(List<String> children) {
        List<QueueNode> queue = new ArrayList<>();
        if (children != null) {
            for (String child : children) {
                QueueNode.parse(child).ifPresent(queue::add);
            }
        }
        queue.sort(QueueNode.BY_SEQUENCE);
        return queue;
    }

    @Override
    public String findOwned(String parent, String owner) {
        for (QueueNode n : queue(parent)) {
            if (n.owner().equals(owner)) {
                return parent + "/" + n.name();
            }
        }
        return null;
    }

    @Override
    public void removeQuietly(String path) {
        if (abandoned.getAsBoolean()) {
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
}
