package io.holdfast.zookeeper;

import io.holdfast.UnavailableException;
import io.holdfast.store.Grant;
import io.holdfast.store.LossSink;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.ZooKeeper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The grants a client holds, and how it finds out it lost them: a watch on each held node (someone
 * deleted it: an operator's revoke), Curator's LOST state or a new session after a reconnection,
 * and a timer that gives the leases up once the connection has been down for a quarter of the
 * session timeout, before the server can have expired the session (see {@link ZooKeeperBackend});
 * {@link SessionWatch} calls {@link #allLost} too, once the session's contact has lapsed. When the
 * session turns out to have survived, the nodes of the leases given up are deleted.
 */
final class Holdings implements ConnectionStateListener {
    private static final Logger log = LoggerFactory.getLogger(Holdings.class);

    private final CuratorFramework curator;
    private final Zk zk;
    private final ScheduledExecutorService timers;
    private final Runnable onConnectionChange;
    private final Map<String, Grant> held = new ConcurrentHashMap<>();
    private volatile LossSink sink;
    private volatile boolean abandoned;
    private volatile long session;
    private volatile long lossAfterMillis;
    private ScheduledFuture<?> lossTimer; // guarded by this

    /**
     * @param onConnectionChange run on every connection state change (wakes waiters so they look again)
     */
    Holdings(
            CuratorFramework curator,
            Zk zk,
            ScheduledExecutorService timers,
            long lossAfterMillis,
            Runnable onConnectionChange) {
        this.curator = curator;
        this.zk = zk;
        this.timers = timers;
        this.lossAfterMillis = lossAfterMillis;
        this.onConnectionChange = onConnectionChange;
    }

    void start(LossSink sink) {
        this.sink = sink;
    }

    /** The session is established, with the timeout the server granted. */
    void connected(long session, long lossAfterMillis) {
        this.session = session;
        this.lossAfterMillis = lossAfterMillis;
    }

    /** Counts the grant as held and watches its node. */
    void add(Grant grant) {
        held.put(path(grant), grant);
        watch(grant);
    }

    /** Stops counting the grant as held; false if it was not (it was reported lost). */
    boolean remove(Grant grant) {
        return held.remove(path(grant), grant);
    }

    boolean holds(Grant grant) {
        return held.get(path(grant)) == grant;
    }

    /** From now on nothing is sent to the store. */
    void abandon() {
        abandoned = true;
    }

    /** The node of this client's current grant of {@code lock} with {@code token}; null when it holds none. */
    String pathOf(String lock, long token) {
        for (Grant g : held.values()) {
            if (g.token() == token && g.request().name().equals(lock)) {
                return path(g);
            }
        }
        return null;
    }

    private static String path(Grant grant) {
        return (String) grant.handle();
    }

    private void watch(Grant grant) {
        String path = path(grant);
        Watcher watcher = new Watcher() {
            @Override
            public void process(WatchedEvent event) {
                if (event.getType() == EventType.NodeDeleted) {
                    lose(grant, "its ZooKeeper node was deleted (an operator revoked it, or the session ended)");
                } else if (event.getType() != EventType.None && holds(grant)) {
                    watch(grant); // a one-shot watch that fired for something else: set it again
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
        if (remove(grant) && sink != null) {
            sink.lost(grant, why);
        }
    }

    @Override
    public void stateChanged(CuratorFramework client, ConnectionState state) {
        switch (state) {
            case SUSPENDED -> startLossTimer();
            case RECONNECTED -> {
                stopLossTimer();
                ZooKeeper handle = handle(curator);
                long now = handle == null ? 0 : handle.getSessionId();
                if (now != session) {
                    session = now;
                    allLost("the ZooKeeper session ended while the client was disconnected");
                }
            }
            case LOST -> {
                stopLossTimer();
                allLost("the ZooKeeper session expired");
            }
            default -> {}
        }
        onConnectionChange.run();
    }

    private synchronized void startLossTimer() {
        if (lossTimer != null) {
            return;
        }
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
        } catch (RejectedExecutionException closing) {
            // the client is closing
        }
    }

    private synchronized void stopLossTimer() {
        if (lossTimer != null) {
            lossTimer.cancel(false);
            lossTimer = null;
        }
    }

    /** Reports every grant lost and, in case the session lives on after all, deletes their nodes. */
    void allLost(String why) {
        List<String> paths = new ArrayList<>(held.keySet());
        held.clear();
        if (sink != null) {
            sink.allLost(why);
        }
        if (abandoned) {
            return;
        }
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

    /** Curator's current ZooKeeper handle, or null. */
    static ZooKeeper handle(CuratorFramework curator) {
        try {
            return curator.getZookeeperClient().getZooKeeper();
        } catch (Exception e) {
            return null;
        }
    }
}
