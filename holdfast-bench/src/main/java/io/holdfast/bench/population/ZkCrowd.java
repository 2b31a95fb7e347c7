package io.holdfast.bench.population;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;

/**
 * The population on a ZooKeeper ensemble, for the same steps, worker processes and measures as {@link Crowd}: each
 * session is one {@link ZooKeeper} handle of ZooKeeper's own Java client (ZooKeeper has one session per connection,
 * and the client gives each handle two threads), with its session timeout set to the TTL and one ephemeral node
 * ({@code /PREFIX s-i}). As a fleet's clients do, each handle picks a server of the connection string at random and
 * keeps it while it serves.
 *
 * <p>What stands for a heartbeat: every quarter of the TTL (Holdfast's heartbeat period) each session reads its own
 * node ({@code exists}, served by the server it is connected to); ZooKeeper's client pings only an idle connection,
 * so these reads replace its pings and keep the session alive the same way. A read answered is an acknowledged
 * heartbeat ({@link ServedAgain}); one that fails (the connection was lost) is sent again 100 ms later, and the
 * session's wait runs on until one is answered. A session is lost when its handle is told {@code Expired}; a session
 * moved when its handle was told {@code Disconnected} or its server changed.
 *
 * <p>Guaranteed: only {@code sessions} steps (the other kinds are Holdfast's locks, waiters and watchers, and throw
 * IllegalArgumentException); sessions open at most {@code openRate} a second when a rate is given, at most {@value
 * InFlight#MOST} at once. Not guaranteed: that every session stays open ({@link #tally()} counts the expired).
 * Failure story: the machine runs out of threads for the handles (two each) and a handle's constructor throws
 * OutOfMemoryError ("unable to create native thread"): the step fails naming it.
 */
final class ZkCrowd implements Generator {
    private static final Duration RETRY = Duration.ofMillis(100);

    /** A ZooKeeper handle that tells which server it is connected to. */
    private static final class Handle extends ZooKeeper {
        Handle(String connect, int timeoutMillis, Watcher watcher, ZKClientConfig config) throws IOException {
            super(connect, timeoutMillis, watcher, config);
        }

        String server() {
            SocketAddress a = testableRemoteSocketAddress();
            return a instanceof InetSocketAddress i ? i.getHostString() + ":" + i.getPort() : "none";
        }
    }

    /** One session: its handle, its node, what its handle was told. */
    private final class Session implements Watcher {
        final String path;
        final CompletableFuture<Void> connected = new CompletableFuture<>();
        volatile Handle handle;
        volatile boolean expired;
        volatile long disconnects;

        Session(String path) {
            this.path = path;
        }

        @Override
        public void process(WatchedEvent e) {
            if (e.getType() != Event.EventType.None) {
                return;
            }
            switch (e.getState()) {
                case SyncConnected -> connected.complete(null);
                case Disconnected -> disconnects++;
                case Expired -> expired = true;
                default -> {}
            }
        }

        /** One heartbeat: a read of its node; the next a period later, or 100 ms later if it failed. */
        void beat() {
            if (expired || closing) {
                return;
            }
            servedAgain.sent(path);
            handle.exists(
                    path,
                    false,
                    (rc, p, ctx, stat) -> {
                        boolean ok = rc == KeeperException.Code.OK.intValue();
                        if (ok) {
                            keepAlives.incrementAndGet();
                            servedAgain.acknowledged(path);
                        }
                        schedule(ok ? period : RETRY);
                    },
                    null);
        }

        void schedule(Duration after) {
            if (!expired && !closing) {
                try {
                    timers.schedule(this::beat, after.toNanos(), TimeUnit.NANOSECONDS);
                } catch (RejectedExecutionException closed) {
                    // the crowd closed since the check: no more heartbeats
                }
            }
        }
    }

    private final String connect;
    private final Duration ttl;
    private final Duration period;
    private final String prefix;
    private final double openRate;
    private final ZKClientConfig config = new ZKClientConfig();
    private final ScheduledExecutorService timers =
            Executors.newScheduledThreadPool(2, r -> Crowd.daemon(r, "population-zk-timers"));
    private final ExecutorService openers = Executors.newFixedThreadPool(8, r -> Crowd.daemon(r, "population-zk-open"));
    private final List<Session> sessions = Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong keepAlives = new AtomicLong();
    private final ServedAgain servedAgain = new ServedAgain();
    private final KillWatch killWatch = new KillWatch(servedAgain);
    private volatile boolean closing;

    /** Each session as a connection of its own, for {@link KillWatch}. */
    private final KillWatch.Connections asConnections = new KillWatch.Connections() {
        @Override
        public int count() {
            return sessions.size();
        }

        @Override
        public String home(int c) {
            return sessions.get(c).handle.server();
        }

        @Override
        public long moves(int c) {
            return sessions.get(c).disconnects;
        }

        @Override
        public int sessions(int c) {
            return 1;
        }
    };

    /**
     * Connects once to check the ensemble and creates the crowd's parent nodes.
     *
     * @param uri {@code zookeeper://host:port,host:port,...}
     * @param prefix the crowd's node names' prefix ({@code population/} in one JVM, {@code population/wN/} in worker
     *     N)
     * @param openRate sessions opened per second at most; 0 or less for as fast as they open
     * @throws IllegalStateException if the ensemble does not answer within {@link Crowd#OPEN_TIMEOUT}
     */
    ZkCrowd(String uri, Duration sessionTtl, String prefix, double openRate) {
        if (!uri.startsWith("zookeeper://")) {
            throw new IllegalArgumentException("not a zookeeper:// URI: " + uri);
        }
        this.connect = uri.substring("zookeeper://".length());
        this.ttl = sessionTtl;
        this.period = sessionTtl.dividedBy(4);
        this.prefix = "/" + (prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix);
        this.openRate = openRate;
        config.setProperty(ZKClientConfig.ENABLE_CLIENT_SASL_KEY, "false");
        Session first = new Session(this.prefix);
        try {
            first.handle = new Handle(connect, (int) ttl.toMillis(), first, config);
            try {
                first.connected.get(Crowd.OPEN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                StringBuilder path = new StringBuilder();
                for (String part : this.prefix.substring(1).split("/")) {
                    path.append('/').append(part);
                    try {
                        first.handle.create(
                                path.toString(), new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                    } catch (KeeperException.NodeExistsException exists) {
                        // another worker made it
                    }
                }
            } finally {
                first.handle.close();
            }
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("the ensemble at " + connect + " did not answer: " + e, e);
        }
    }

    @Override
    public void grow(PopulationBench.Step step) throws InterruptedException {
        if (!step.kind().equals("sessions")) {
            throw new IllegalArgumentException("the zookeeper target carries sessions only, not " + step.kind());
        }
        int from = sessions.size();
        InFlight.runPaced(from, step.count(), openRate, i -> {
            return open(prefix + "/s-" + i);
        });
    }

    /** Opens one session: its handle, then (once connected) its ephemeral node, then its heartbeats. */
    private CompletableFuture<Void> open(String path) {
        Session s = new Session(path);
        CompletableFuture<Void> created = new CompletableFuture<>();
        CompletableFuture.runAsync(
                        () -> {
                            try {
                                s.handle = new Handle(connect, (int) ttl.toMillis(), s, config);
                            } catch (IOException e) {
                                throw new IllegalStateException(e);
                            }
                        },
                        openers)
                .thenCompose(v -> s.connected)
                .orTimeout(Crowd.OPEN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .whenComplete((v, e) -> {
                    if (e != null) {
                        created.completeExceptionally(new IllegalStateException(
                                "session " + path + " did not connect within " + Crowd.OPEN_TIMEOUT.toSeconds() + " s: "
                                        + e,
                                e));
                        return;
                    }
                    create(s, created, System.nanoTime() + Crowd.OPEN_TIMEOUT.toNanos());
                });
        return created;
    }

    /**
     * Creates the session's ephemeral node (again, on a connection lost before {@code deadline}: an earlier try that
     * made it leaves it there, {@code NODEEXISTS}), then starts its heartbeats; completes {@code created} either way.
     */
    private void create(Session s, CompletableFuture<Void> created, long deadline) {
        try {
            s.handle.create(
                    s.path,
                    new byte[0],
                    ZooDefs.Ids.OPEN_ACL_UNSAFE,
                    CreateMode.EPHEMERAL,
                    (rc, p, ctx, name) -> {
                        KeeperException.Code code = KeeperException.Code.get(rc);
                        if (code == KeeperException.Code.CONNECTIONLOSS && System.nanoTime() < deadline) {
                            create(s, created, deadline); // as a client would: the handle reconnects, try again
                            return;
                        }
                        if (code != KeeperException.Code.OK && code != KeeperException.Code.NODEEXISTS) {
                            created.completeExceptionally(KeeperException.create(code, p));
                            return;
                        }
                        sessions.add(s);
                        long offset = ThreadLocalRandom.current().nextLong(period.toNanos());
                        s.schedule(Duration.ofNanos(offset));
                        created.complete(null);
                    },
                    null);
        } catch (RuntimeException e) {
            created.completeExceptionally(e);
        }
    }

    @Override
    public List<Tally> tallies() {
        return List.of(tally());
    }

    /** What this crowd carries now; each session is a connection of its own, counted by its server. */
    Tally tally() {
        Map<String, Integer> byServer = new TreeMap<>();
        List<Session> all;
        synchronized (sessions) {
            all = new ArrayList<>(sessions);
        }
        for (Session s : all) {
            byServer.merge(s.handle.server(), 1, Integer::sum);
        }
        return new Tally(
                all.size(),
                0,
                0,
                0,
                keepAlives.get(),
                expired(),
                byServer,
                byServer,
                ProcessHandle.current().pid());
    }

    private long expired() {
        synchronized (sessions) {
            return sessions.stream().filter(s -> s.expired).count();
        }
    }

    @Override
    public void killing(String member, Duration window) {
        killWatch.killing(member, window, asConnections, sessions.size(), expired(), tally().sessionsByHome());
    }

    @Override
    public KillTally afterKill() throws InterruptedException {
        return killWatch.afterKill(asConnections, ttl, this::expired);
    }

    /** Closes every session (ending it on the ensemble, its node with it). */
    @Override
    public void close() throws InterruptedException {
        closing = true;
        timers.shutdownNow();
        List<Session> all;
        synchronized (sessions) {
            all = new ArrayList<>(sessions);
        }
        InFlight.runAll(
                0,
                all.size(),
                i -> CompletableFuture.runAsync(
                        () -> {
                            try {
                                all.get(i).handle.close(1_000);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        },
                        openers));
        openers.shutdownNow();
    }
}
