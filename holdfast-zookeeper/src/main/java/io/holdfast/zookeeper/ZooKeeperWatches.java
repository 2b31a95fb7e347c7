package io.holdfast.zookeeper;

import io.holdfast.Ticker;
import io.holdfast.WatchTarget;
import io.holdfast.store.WatchSubscriptions;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What wakes the watches of one ZooKeeper client between their reads ({@link
 * ZooKeeperBackend#awaitWatched}): one persistent ZooKeeper watch per watched target. A lock's is
 * recursive on its queue's parent node, so a node that joins or leaves the queue (a grant, a wait,
 * a release, a revoke, a session that expires and takes its ephemeral nodes) or is written (the
 * write that gives a waiter its token) fires it; a prefix's is recursive on the parent of every
 * queue and fires for the names under the prefix; a register's is on its node; a watch of keys is
 * recursive on {@code /keys} and fires for the keys under its prefix. The bookkeeping of
 * who sleeps on which ZooKeeper watch, and for how long it is kept, is {@link WatchSubscriptions}'.
 *
 * <p><b>What it guarantees.</b> Every change a watch follows fires the ZooKeeper watch, and a sleep
 * ends within a round trip of it. The first sleep on a new ZooKeeper watch returns once it is
 * added (a change before then was not seen), and every sleep after a reconnect returns at once
 * (ZooKeeper sets the watch again, but changes meanwhile fire nothing).
 *
 * <p><b>What it does not.</b> A prefix watch is told of every lock's changes and keeps those under
 * its prefix, since queue nodes are not nested by name. The ZooKeeper watch is added on a target's
 * first sleep and removed once no sleep has used it for {@link WatchSubscriptions#IDLE}, since a
 * watch does not tell its wakeup that it ended.
 *
 * <p><b>A failure story.</b> The client's session expires while a watch sleeps. The ZooKeeper watch
 * goes with it (the event says so, and wakes the sleepers); Curator opens a new session, the watch
 * reads again, and its next sleep adds a new ZooKeeper watch, on the new session, and returns at
 * once.
 */
final class ZooKeeperWatches implements WatchSubscriptions.Store<ZooKeeperWatches.Persistent> {
    private static final Logger log = LoggerFactory.getLogger(ZooKeeperWatches.class);

    /** The persistent ZooKeeper watch of one target. */
    static final class Persistent implements Watcher {
        final String path;
        /** For a prefix: the names it covers; null for a lock or a register. */
        final String prefix;

        final WatchSubscriptions.Subscription subscription;

        Persistent(String path, String prefix, WatchSubscriptions.Subscription subscription) {
            this.path = path;
            this.prefix = prefix;
            this.subscription = subscription;
        }

        @Override
        public void process(WatchedEvent event) {
            if (event.getType() == Event.EventType.None) {
                if (event.getState() == Event.KeeperState.Expired || event.getState() == Event.KeeperState.Closed) {
                    subscription.ended(new IllegalStateException("the watch of " + path + " went with the session"));
                } else {
                    subscription.changed(); // disconnected or back: what changed meanwhile fired nothing
                }
            } else if (prefix == null || covers(event.getPath())) {
                subscription.changed();
            }
        }

        /** Whether a node under the watched path ({@code /locks}, {@code /keys}) belongs to a name under the prefix. */
        private boolean covers(String path) {
            String head = this.path + "/";
            if (path == null || !path.startsWith(head)) {
                return false;
            }
            int end = path.indexOf('/', head.length());
            try {
                return QueueNode.decode(path.substring(head.length(), end < 0 ? path.length() : end))
                        .startsWith(prefix);
            } catch (IllegalArgumentException notOurs) {
                return false;
            }
        }
    }

    private final CuratorFramework curator;
    private final WatchSubscriptions<Persistent> subscriptions;

    ZooKeeperWatches(CuratorFramework curator, Ticker ticker) {
        this.curator = curator;
        this.subscriptions = new WatchSubscriptions<>("zookeeper", this, ticker);
    }

    /**
     * Sleeps up to {@code maxNanos}, or until what {@code target} watches may have changed.
     *
     * @throws InterruptedException if the thread is interrupted
     */
    void await(WatchTarget target, long maxNanos) throws InterruptedException {
        subscriptions.await(target, maxNanos);
    }

    @Override
    public Persistent open(WatchTarget target, WatchSubscriptions.Subscription s) throws Exception {
        Persistent p = switch (target.kind()) {
            case LOCK -> new Persistent(LockNodes.parent(target.name()), null, s);
            case PREFIX -> new Persistent(ZooKeeperBackend.LOCKS, target.name(), s);
            case REGISTER -> new Persistent(ZooKeeperRegisters.path(target.name()), null, s);
            case KEYS -> new Persistent(KeyNode.KEYS, target.name(), s);
        };
        AddWatchMode mode = target.kind() == WatchTarget.Kind.REGISTER
                ? AddWatchMode.PERSISTENT
                : AddWatchMode.PERSISTENT_RECURSIVE;
        curator.watchers()
                .add()
                .withMode(mode)
                .inBackground((client, event) -> {
                    if (Code.get(event.getResultCode()) == Code.OK) {
                        s.ready();
                    } else {
                        s.ended(new IllegalStateException(
                                "adding a watch of " + p.path + " failed: " + Code.get(event.getResultCode())));
                    }
                })
                .usingWatcher(p)
                .forPath(p.path);
        return p;
    }

    /** Removes the ZooKeeper watch, in the background; a failure leaves it to the session's end. */
    @Override
    public void close(Persistent p) {
        try {
            curator.watchers()
                    .remove(p)
                    .ofType(Watcher.WatcherType.Any)
                    .quietly()
                    .inBackground()
                    .forPath(p.path);
        } catch (Exception e) {
            log.debug("zookeeper: removing the watch of {} failed", p.path, e);
        }
    }

    /** Wakes every sleeper (the client closes); the session's end takes the ZooKeeper watches. */
    void close() {
        subscriptions.endAll();
    }

    /** How many ZooKeeper watches are set for watches (for tests). */
    int watching() {
        return subscriptions.size();
    }
}
