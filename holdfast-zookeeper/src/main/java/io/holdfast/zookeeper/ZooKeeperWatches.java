package io.holdfast.zookeeper;

import io.holdfast.Ticker;
import io.holdfast.WatchTarget;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
 * queue and fires for the names under the prefix; a register's is on its node.
 *
 * <p><b>What it guarantees.</b> Every change a watch follows fires the ZooKeeper watch, and a sleep
 * ends within a round trip of it. A change that comes while the watch reads is not lost: each
 * watching thread remembers how many events it had seen when it last woke, and its next sleep
 * returns at once if there were more. So does the first sleep on a new ZooKeeper watch (once it is
 * added: a change before then was not seen), and every sleep after a reconnect (ZooKeeper sets the
 * watch again, but changes meanwhile fire nothing).
 *
 * <p><b>What it does not.</b> A prefix watch is told of every lock's changes and keeps those under
 * its prefix, since queue nodes are not nested by name. The ZooKeeper watch is added on a target's
 * first sleep and removed once no sleep has used it for {@link #IDLE} (noticed by a later sleep of
 * any watch), since a watch does not tell its wakeup that it ended.
 *
 * <p><b>A failure story.</b> The client's session expires while a watch sleeps. The ZooKeeper watch
 * goes with it (the event says so, and wakes the sleepers); Curator opens a new session, the watch
 * reads again, and its next sleep adds a new ZooKeeper watch, on the new session, and returns at
 * once.
 */
final class ZooKeeperWatches {
    private static final Logger log = LoggerFactory.getLogger(ZooKeeperWatches.class);

    /** How long a ZooKeeper watch no sleep uses is kept, for the next sleep of its watch. */
    static final Duration IDLE = Duration.ofSeconds(10);

    /** The ZooKeeper watch of one target and the count of its events. */
    private static final class Subscription implements Watcher {
        final String key;
        final String path;
        /** For a prefix: the names it covers; null for a lock or a register. */
        final String prefix;

        final CompletableFuture<Void> added = new CompletableFuture<>();
        long events; // guarded by this
        volatile boolean ended;
        int users; // guarded by the map's compute on key, like lastUsed
        long lastUsed;

        Subscription(String key, String path, String prefix) {
            this.key = key;
            this.path = path;
            this.prefix = prefix;
        }

        @Override
        public void process(WatchedEvent event) {
            if (event.getType() == Event.EventType.None) {
                if (event.getState() == Event.KeeperState.Expired || event.getState() == Event.KeeperState.Closed) {
                    ended = true; // the watch went with the session
                }
                bump(); // disconnected or back: what changed meanwhile fired nothing
            } else if (prefix == null || covers(event.getPath())) {
                bump();
            }
        }

        /** Whether a node under {@code /locks} belongs to a name under the prefix. */
        private boolean covers(String path) {
            String head = ZooKeeperBackend.LOCKS + "/";
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

        synchronized void bump() {
            events++;
            notifyAll();
        }

        synchronized long events() {
            return events;
        }

        /** Sleeps until the count differs from {@code seen} or {@code nanos} pass. */
        synchronized void await(long seen, long nanos) throws InterruptedException {
            long end = System.nanoTime() + nanos;
            for (long left = nanos; events == seen && left > 0; left = end - System.nanoTime()) {
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }
    }

    /** What a thread last saw of a subscription. */
    private record Seen(Subscription subscription, long events) {}

    private final CuratorFramework curator;
    private final Ticker ticker;
    private final ConcurrentHashMap<String, Subscription> subscriptions = new ConcurrentHashMap<>();
    private final ThreadLocal<Map<String, Seen>> seen = ThreadLocal.withInitial(HashMap::new);
    private volatile long lastSweep;

    ZooKeeperWatches(CuratorFramework curator, Ticker ticker) {
        this.curator = curator;
        this.ticker = ticker;
        this.lastSweep = ticker.nanos();
    }

    /**
     * Sleeps up to {@code maxNanos}, or until what {@code target} watches may have changed.
     *
     * @throws InterruptedException if the thread is interrupted
     */
    void await(WatchTarget target, long maxNanos) throws InterruptedException {
        long start = System.nanoTime();
        Subscription s = use(target);
        try {
            if (!s.added.isDone()) {
                try {
                    s.added.get(maxNanos, TimeUnit.NANOSECONDS);
                } catch (TimeoutException e) {
                    return; // not in place yet: this was a pause of plain polling
                } catch (ExecutionException e) {
                    // not added: made again by the next sleep
                }
            }
            long left = maxNanos - (System.nanoTime() - start);
            if (s.ended) {
                TimeUnit.NANOSECONDS.sleep(Math.max(0, left)); // polls until the next sleep adds a new one
                return;
            }
            Map<String, Seen> mine = seen.get();
            Seen last = mine.get(s.key);
            long events = s.events();
            if (last != null && last.subscription() == s && last.events() == events) {
                s.await(events, left);
                events = s.events();
            }
            mine.put(s.key, new Seen(s, events));
        } finally {
            done(s);
        }
    }

    private Subscription use(WatchTarget target) {
        String key = target.kind().name().charAt(0) + target.name();
        return subscriptions.compute(key, (k, s) -> {
            if (s == null || s.ended) {
                if (s != null) {
                    remove(s);
                }
                s = add(k, target);
            }
            s.users++;
            return s;
        });
    }

    private Subscription add(String key, WatchTarget target) {
        Subscription s = switch (target.kind()) {
            case LOCK -> new Subscription(key, ZooKeeperBackend.LOCKS + "/" + QueueNode.encode(target.name()), null);
            case PREFIX -> new Subscription(key, ZooKeeperBackend.LOCKS, target.name());
            case REGISTER -> new Subscription(key, ZooKeeperRegisters.path(target.name()), null);
        };
        AddWatchMode mode = target.kind() == WatchTarget.Kind.REGISTER
                ? AddWatchMode.PERSISTENT
                : AddWatchMode.PERSISTENT_RECURSIVE;
        try {
            curator.watchers()
                    .add()
                    .withMode(mode)
                    .inBackground((client, event) -> {
                        if (Code.get(event.getResultCode()) == Code.OK) {
                            s.added.complete(null);
                        } else {
                            end(s, "adding a watch of " + s.path + " failed: " + Code.get(event.getResultCode()));
                        }
                    })
                    .usingWatcher(s)
                    .forPath(s.path);
        } catch (Exception e) { // the client is closed
            end(s, "adding a watch of " + s.path + " failed: " + e);
        }
        return s;
    }

    private static void end(Subscription s, String why) {
        s.ended = true;
        s.added.completeExceptionally(new IllegalStateException(why));
        s.bump();
    }

    /** Ends one sleep on {@code s}; removes the ZooKeeper watches nothing used for {@link #IDLE}. */
    private void done(Subscription s) {
        long now = ticker.nanos();
        subscriptions.computeIfPresent(s.key, (key, sub) -> {
            sub.users--;
            sub.lastUsed = now;
            return sub;
        });
        long idle = IDLE.toNanos();
        if (now - lastSweep < idle / 2) {
            return;
        }
        lastSweep = now;
        for (String key : subscriptions.keySet()) {
            subscriptions.computeIfPresent(key, (k, sub) -> {
                if (sub.users > 0 || now - sub.lastUsed < idle) {
                    return sub;
                }
                remove(sub);
                return null;
            });
        }
    }

    /** Removes the ZooKeeper watch of {@code s}, in the background; a failure leaves it to the session's end. */
    private void remove(Subscription s) {
        try {
            curator.watchers()
                    .remove(s)
                    .ofType(Watcher.WatcherType.Any)
                    .quietly()
                    .inBackground()
                    .forPath(s.path);
        } catch (Exception e) {
            log.debug("zookeeper: removing the watch of {} failed", s.path, e);
        }
    }

    /** Wakes every sleeper (the client closes); the session's end takes the ZooKeeper watches. */
    void close() {
        subscriptions.values().forEach(s -> {
            s.ended = true;
            s.bump();
        });
        subscriptions.clear();
    }

    /** How many ZooKeeper watches are set for watches (for tests). */
    int watching() {
        return subscriptions.size();
    }
}
