// Ceiling 420 lines, one idea: one process's crowd of sessions (its connections, locks, waiters and watchers),
// and what became of them around a kill.
package io.holdfast.bench.population;

import io.holdfast.AcquireOptions;
import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.SessionListener;
import io.holdfast.Watch;
import io.holdfast.WatchTarget;
import io.holdfast.client.HoldfastProvider;
import io.holdfast.client.internal.ClientRuntime;
import io.holdfast.client.internal.ClusterTransport;
import io.holdfast.model.LockService;
import io.holdfast.model.Reply;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The population a cluster carries: sessions kept alive by the real Java client ({@link ClientRuntime}, its
 * heartbeats, event stream and leases), held locks, queued waiters and watches, grown step by step in one JVM: the
 * whole population, or a worker's share of it ({@link CrowdWorker}).
 *
 * <p>How one JVM carries 100,000 sessions: sessions share connections ({@code sessionsPerConnection} of them on
 * one {@link ClusterTransport} over frames, which multiplexes their calls and event streams) and one timer thread
 * for their heartbeats ({@link ClientOptions#scheduler()}); a session costs a few objects and its calls, no
 * thread. Held lock {@code i} is {@code PREFIX lock-i} ({@code population/lock-i} in one JVM, {@code
 * population/wN/lock-i} in worker N, so workers never share a lock), taken by session {@code i mod sessions};
 * waiter {@code j} is session {@code (j + 1) mod sessions} queued for lock {@code j} (held by another session of
 * the same crowd) for a day; watcher {@code k} watches lock {@code k}.
 *
 * <p>As a fleet's clients do, each connection picks a home member at random ({@code
 * HoldfastProvider.transport}, ADR 0003) and keeps it while it serves; {@link #tally()} counts the sessions and
 * connections per home ({@link ClusterTransport#target()}). Sessions open at most {@code openRate} a second when a
 * rate is given. Around a leader's kill ({@link #killing}, {@link #afterKill}) it tells how long each session went
 * without an acknowledged heartbeat ({@link ServedAgain}), how many expired, and which connections changed home.
 *
 * <p>Not guaranteed: that every session stays open (a session whose heartbeats went unanswered for its TTL
 * expires; {@link #expiredSessions()} counts them, a result of the step that lost them).
 */
final class Crowd implements Generator {
    private final String uri;
    private final ClientOptions options;
    private final int sessionsPerConnection;
    private final ScheduledExecutorService timers =
            Executors.newScheduledThreadPool(2, r -> daemon(r, "population-timers"));
    private final ExecutorService openers = Executors.newFixedThreadPool(16, r -> daemon(r, "population-open"));
    /**
     * The callbacks of every session of the crowd: a client's own pool starts a thread for each
     * client that has a callback at once, and a member's restart gave 2,000 to 4,000 clients of a
     * worker one together, past the machine's 32,768 thread ids (docs/benchmarks.md, 2026-11-30).
     */
    private final ExecutorService callbacks = Executors.newFixedThreadPool(8, r -> daemon(r, "population-callbacks"));

    /** Why sessions were lost, logged (a worker's log) and counted. */
    private final SessionLosses losses = new SessionLosses(System.err, Clock.systemDefaultZone());

    private final List<LockService> connections = new ArrayList<>();
    private final List<ClusterTransport> transports = new ArrayList<>();
    private final List<LockClient> sessions = Collections.synchronizedList(new ArrayList<>());
    private final List<Lease> held = Collections.synchronizedList(new ArrayList<>());
    private final List<CompletableFuture<Lease>> waiters = new ArrayList<>();
    private final List<Watch> watches = new ArrayList<>();
    /** Sessions opened on each connection, by connection index. */
    private final List<AtomicInteger> sessionsOn = new ArrayList<>();
    /** The sessions of each connection, by connection index. */
    private final List<List<LockClient>> sessionsOf = new ArrayList<>();
    /** Each connection's story around a kill, printed to standard error (a worker's log). */
    private final KillTimeline timeline = new KillTimeline();

    private List<String> homesAtKill = List.of();
    private String killed;

    private final AtomicLong keepAlives = new AtomicLong();
    private final ServedAgain servedAgain = new ServedAgain();
    private final Set<Capability> capabilities;
    private final String prefix;
    private final double openRate;
    private final KillWatch killWatch = new KillWatch(servedAgain);
    /** The connections as {@link KillWatch} sees them. */
    private final KillWatch.Connections asConnections = new KillWatch.Connections() {
        @Override
        public int count() {
            return transports.size();
        }

        @Override
        public String home(int c) {
            return transports.get(c).target().toString();
        }

        @Override
        public long moves(int c) {
            return transports.get(c).homeMoves();
        }

        @Override
        public int sessions(int c) {
            return sessionsOn.get(c).get();
        }
    };

    /**
     * How long the bench's clients may take to open a session (the client's default is 5 s): the nodes were just
     * started, or one was just restarted, and on a loaded machine (CI, load 20 to 25 on two cores) a first answer
     * took longer (CI rehearsal of 2026-11-29: "could not open a session … within the connect timeout (5s)").
     */
    static final Duration OPEN_TIMEOUT = Duration.ofSeconds(30);

    /** The options of the bench's one-off clients (the W1 probe, the churn): the defaults, {@link #OPEN_TIMEOUT}, no renewal. */
    static ClientOptions oneOff() {
        return ClientOptions.builder()
                .connectTimeout(OPEN_TIMEOUT)
                .renewSessions(false)
                .build();
    }

    /**
     * @param sessionTtl every session's TTL (heartbeats every quarter of it)
     * @param sessionsPerConnection how many sessions share one connection to the members
     * @param requestTimeout how long one request may take (the client's default is 10 s; a loaded machine with
     *     hundreds of acquires in flight may need more)
     */
    Crowd(String uri, Duration sessionTtl, int sessionsPerConnection, Duration requestTimeout) {
        this(uri, sessionTtl, sessionsPerConnection, requestTimeout, "population/", 0);
    }

    /**
     * @param prefix what every lock name of this crowd starts with ({@code population/} in one JVM)
     * @param openRate sessions opened per second at most; 0 or less for as fast as 256 opens in flight go
     */
    Crowd(
            String uri,
            Duration sessionTtl,
            int sessionsPerConnection,
            Duration requestTimeout,
            String prefix,
            double openRate) {
        this.uri = uri;
        this.sessionsPerConnection = sessionsPerConnection;
        this.prefix = prefix;
        this.openRate = openRate;
        this.options = ClientOptions.builder()
                .clientName("population")
                .sessionTtl(sessionTtl)
                .requestTimeout(requestTimeout)
                .connectTimeout(OPEN_TIMEOUT)
                .scheduler(timers)
                .callbackExecutor(callbacks)
                // A session lost is the measure (sessions lost around a kill), not something to mend: a crowd
                // that opened new sessions would hide losses and add a storm of opens to the failover it measures.
                .renewSessions(false)
                .build();
        try (LockClient first = LockClient.open(uri, options)) {
            this.capabilities = first.capabilities();
        }
    }

    int sessionCount() {
        return sessions.size();
    }

    int heldCount() {
        return held.size();
    }

    int waiterCount() {
        return waiters.size();
    }

    int watcherCount() {
        return watches.size();
    }

    /** Heartbeats the members acknowledged so far. */
    long keepAlives() {
        return keepAlives.get();
    }

    /** Sessions of the crowd that are no longer open (expired). */
    long expiredSessions() {
        synchronized (sessions) {
            return sessions.stream().filter(c -> !c.isOpen()).count();
        }
    }

    /** Opens sessions until there are {@code target}, at most {@code openRate} a second if a rate was given. */
    void growSessions(int target) throws InterruptedException {
        int from = sessions.size();
        while (connections.size() * (long) sessionsPerConnection < target) {
            ClusterTransport t = HoldfastProvider.transport(uri, options.requestTimeout());
            transports.add(t);
            connections.add(counting(t, transports.size() - 1));
            sessionsOn.add(new AtomicInteger());
            sessionsOf.add(Collections.synchronizedList(new ArrayList<>()));
        }
        InFlight.runPaced(from, target, openRate, i -> {
            int c = i / sessionsPerConnection;
            return CompletableFuture.runAsync(
                    () -> {
                        LockClient opened =
                                ClientRuntime.open("holdfast", uri, connections.get(c), options, capabilities);
                        opened.addSessionListener(new SessionListener() {
                            @Override
                            public void lost(String oldId, String cause) {
                                losses.lost(oldId, cause);
                            }
                        });
                        sessions.add(opened);
                        sessionsOf.get(c).add(opened);
                        sessionsOn.get(c).incrementAndGet();
                    },
                    openers);
        });
    }

    /** Takes held locks until there are {@code target}, spread over the sessions. */
    void growHeld(int target) throws InterruptedException {
        int from = held.size();
        InFlight.runAll(
                from,
                target,
                i -> session(i)
                        .lock(lockName(i))
                        .acquireAsync(AcquireOptions.tryOnce())
                        .thenAccept(held::add));
    }

    /** Queues waiters until there are {@code target}, each on a held lock of another session. */
    void growWaiters(int target) throws InterruptedException {
        if (target > held.size() || sessions.size() < 2) {
            throw new IllegalArgumentException(
                    "waiters need as many held locks and two sessions (" + held.size() + " held)");
        }
        List<CompletableFuture<Lease>> queued = new ArrayList<>();
        for (int j = waiters.size(); j < target; j++) {
            queued.add(session(j + 1).lock(lockName(j)).acquireAsync(AcquireOptions.waitUpTo(Duration.ofDays(1))));
        }
        waiters.addAll(queued);
        for (CompletableFuture<Lease> w : queued) {
            if (w.isCompletedExceptionally()) {
                w.join();
            }
        }
    }

    /** Opens watches until there are {@code target}, one per lock, on sessions in turn. */
    void growWatchers(int target) {
        for (int k = watches.size(); k < target; k++) {
            watches.add(session(k).watch(WatchTarget.lock(lockName(k)), event -> {}));
        }
    }

    String lockName(int i) {
        return prefix + "lock-" + i;
    }

    @Override
    public void grow(PopulationBench.Step step) throws InterruptedException {
        switch (step.kind()) {
            case "sessions" -> growSessions(step.count());
            case "locks" -> growHeld(step.count());
            case "waiters" -> growWaiters(step.count());
            default -> growWatchers(step.count());
        }
    }

    @Override
    public List<Tally> tallies() {
        return List.of(tally());
    }

    /** What this crowd carries now, its sessions and connections counted by their home member. */
    Tally tally() {
        Map<String, Integer> sessionsBy = new TreeMap<>();
        Map<String, Integer> connectionsBy = new TreeMap<>();
        for (int c = 0; c < transports.size(); c++) {
            String home = transports.get(c).target().toString();
            sessionsBy.merge(home, sessionsOn.get(c).get(), Integer::sum);
            connectionsBy.merge(home, 1, Integer::sum);
        }
        return new Tally(
                sessionCount(),
                heldCount(),
                waiterCount(),
                watcherCount(),
                keepAlives(),
                expiredSessions(),
                sessionsBy,
                connectionsBy,
                ProcessHandle.current().pid());
    }

    @Override
    public void killing(String member, Duration window) {
        killed = member;
        List<String> homes = new ArrayList<>();
        for (int c = 0; c < transports.size(); c++) {
            homes.add(asConnections.home(c));
        }
        homesAtKill = homes;
        timeline.start(transports.size(), asConnections::home, timers);
        killWatch.killing(member, window, asConnections, sessionCount(), expiredSessions(), tally().sessionsByHome());
    }

    @Override
    public KillTally afterKill() throws InterruptedException {
        KillTally tally = killWatch.afterKill(asConnections, options.sessionTtl(), this::expiredSessions);
        timeline.print(System.err, killed, homesAtKill, c -> sessionsOn.get(c).get(), this::endedOn);
        return tally;
    }

    /** Sessions of connection {@code c} that are no longer open. */
    private int endedOn(int c) {
        List<LockClient> of = sessionsOf.get(c);
        synchronized (of) {
            return (int) of.stream().filter(s -> !s.isOpen()).count();
        }
    }

    private LockClient session(int i) {
        return sessions.get(Math.floorMod(i, sessions.size()));
    }

    /**
     * The transport (connection {@code c}), with its acknowledged heartbeats counted (and told to the kill's
     * timeline with its failures) and its close left to this crowd.
     */
    private LockService counting(ClusterTransport transport, int c) {
        InvocationHandler h = (proxy, method, args) -> {
            if (method.getName().equals("close") && (args == null || args.length == 0)) {
                return null; // a session's close must not close the connection the others share
            }
            Object result;
            long sentNanos = System.nanoTime();
            if (method.getName().equals("keepAlive")) {
                timeline.sent(c);
            }
            try {
                result = method.invoke(transport, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            if (method.getName().equals("keepAlive")) {
                String session = (String) args[0];
                servedAgain.sent(session);
                @SuppressWarnings("unchecked")
                CompletableFuture<Reply> reply = (CompletableFuture<Reply>) result;
                reply.whenComplete((r, e) -> {
                    if (r instanceof Reply.Ok) {
                        keepAlives.incrementAndGet();
                        servedAgain.acknowledged(session);
                        timeline.acknowledged(c, sentNanos);
                    } else {
                        timeline.failed(
                                c,
                                e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                                        ? e.getCause()
                                        : e != null ? e : r);
                    }
                });
            }
            return result;
        };
        return (LockService)
                Proxy.newProxyInstance(LockService.class.getClassLoader(), new Class<?>[] {LockService.class}, h);
    }

    static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Closes every session (ending them on the service) and then the connections. */
    @Override
    public void close() throws InterruptedException {
        if (losses.count() > 0) {
            System.err.println("population: " + losses.count() + " sessions lost, by cause: " + losses.summary());
        }
        for (Watch w : watches) {
            w.close();
        }
        List<LockClient> all;
        synchronized (sessions) {
            all = new ArrayList<>(sessions);
        }
        InFlight.runAll(0, all.size(), i -> CompletableFuture.runAsync(all.get(i)::close, openers));
        for (ClusterTransport t : transports) {
            t.close();
        }
        openers.shutdownNow();
        timers.shutdownNow();
        callbacks.shutdownNow();
        timers.awaitTermination(5, TimeUnit.SECONDS);
    }
}
