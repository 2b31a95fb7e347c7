package io.holdfast.server;

import io.holdfast.Ticker;
import io.holdfast.core.PlantedBug;
import io.holdfast.core.Vocabulary;
import io.holdfast.endpoint.ClientPort;
import io.holdfast.internal.Causes;
import io.holdfast.model.LockService;
import io.holdfast.server.backup.BackupSchedule;
import io.holdfast.server.backup.Backups;
import io.holdfast.server.config.RaftSettings;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.config.StartupException;
import io.holdfast.server.http.HttpEndpoint;
import io.holdfast.server.leadership.DeadLeaderWatch;
import io.holdfast.server.leadership.LeaderHandOver;
import io.holdfast.server.leadership.LeaderRehearsal;
import io.holdfast.server.leadership.LostMajority;
import io.holdfast.server.membership.DivisionWatch;
import io.holdfast.server.membership.JoinRescue;
import io.holdfast.server.membership.TransportCheck;
import io.holdfast.server.membership.VersionReport;
import io.holdfast.server.node.NodeParts;
import io.holdfast.server.node.ServerMetrics;
import io.holdfast.server.raft.LockStateMachine;
import io.holdfast.server.storage.DataDirectory;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Holdfast node: a Raft member (Apache Ratis) whose state machine is the lock table, plus the
 * endpoints clients and operators use. One node alone is a complete service; three or five make
 * it survive the loss of one or two.
 *
 * <p><b>Guarantees.</b> A write is acknowledged only after a majority has it in its log and, unless
 * {@link ServerConfig#fsync()} is off, on disk; a restart recovers every acknowledged write from
 * the data directory. Reads are linearizable. Only the leader serves; other members send clients
 * to it.
 *
 * <p><b>Failure story.</b> The leader's machine loses power. The followers stop hearing from it,
 * elect a new leader within a few election timeouts, and the new leader gives every session a
 * fresh TTL before anything can expire, so clients that fail over in time keep their locks. Writes
 * that the old leader had not yet replicated to a majority were never acknowledged; clients retry
 * them with the same invocation id and the table applies each at most once.
 */
public final class HoldfastServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HoldfastServer.class);

    /**
     * gRPC's java.util.logging loggers, held at WARNING (and held: such loggers are kept weakly):
     * Ratis's "Epoll available during static init of TcpMetrics" at a node's first channel to a
     * peer, and both gRPC servers' "Transport failed" with a 25-line stack trace for each connection
     * that does not speak HTTP/2 ({@code curl} at the Raft or client port), closed at once either way.
     */
    static final List<java.util.logging.Logger> QUIET_JUL = List.of(
            java.util.logging.Logger.getLogger("org.apache.ratis.thirdparty.io.grpc.netty.TcpMetrics"),
            java.util.logging.Logger.getLogger("org.apache.ratis.thirdparty.io.grpc.netty.NettyServerTransport"),
            java.util.logging.Logger.getLogger("io.grpc.netty.shaded.io.grpc.netty.NettyServerTransport"));

    static {
        QUIET_JUL.forEach(l -> l.setLevel(java.util.logging.Level.WARNING));
    }

    private final ServerConfig config;
    private final RaftServer raft;
    private final NodeParts parts;
    private final List<AutoCloseable> endpoints = new ArrayList<>();

    /** Guarded by this: set by the first close, which a second one waits for (see {@link #close()}). */
    private boolean closed;

    private volatile int httpPort = -1;
    private volatile int clientPort = -1;

    private HoldfastServer(ServerConfig config, RaftServer raft, NodeParts parts) {
        this.config = config;
        this.raft = raft;
        this.parts = parts;
    }

    /**
     * Starts a node.
     *
     * @throws StartupException with a one-line reason: a port in use, an unwritable data
     *     directory, a damaged log, …
     */
    public static HoldfastServer start(ServerConfig config) throws StartupException {
        return start(config, Set.of());
    }

    /**
     * Starts a node with planted bugs, <b>for verification only</b>: the node breaks its guarantees
     * in the ways {@link PlantedBug} lists, so that the verification harness can prove its checkers
     * fail. Every node of a cluster must get the same set. Not reachable from {@code holdfast
     * server}; an empty set is {@link #start(ServerConfig)}.
     *
     * @throws StartupException as {@link #start(ServerConfig)}
     */
    public static HoldfastServer start(ServerConfig config, Set<PlantedBug> bugs) throws StartupException {
        return start(config, bugs, Vocabulary.CURRENT, true);
    }

    /**
     * Starts a node whose build speaks {@code vocabulary}: tests play an older or newer build with
     * it (an upgrade node by node in one JVM), and with {@code reportsVersion} false a member that
     * has not reported its version ({@link VersionReport}); real nodes speak {@link
     * Vocabulary#CURRENT} and report.
     */
    static HoldfastServer start(
            ServerConfig config, Set<PlantedBug> bugs, Vocabulary vocabulary, boolean reportsVersion)
            throws StartupException {
        Ticker ticker = Ticker.system();
        StartSteps.warnOfPlantedBugs(config, bugs);
        StartSteps.checkTlsFiles(config);
        Path raftDir = DataDirectory.open(config.dataDir());
        StartSteps.checkPortsFree(config);
        StartSteps.Members members = StartSteps.Members.of(config);
        TransportCheck.check(config, members.group());
        RaftGroup startGroup = StartSteps.startGroup(config, members.group(), raftDir, ticker);
        StartSteps.checkPeersClusterId(config, members);
        LockStateMachine machine = new LockStateMachine(bugs, vocabulary);
        RaftProperties properties = raftProperties(config, raftDir);
        ServerMetrics metrics = new ServerMetrics(config.nodeId());
        DataDirectory.checkLog(raftDir, properties, metrics::logTailRepaired);
        RaftServer raft = StartSteps.buildRaft(config, startGroup, machine, properties, raftDir);
        NodeParts parts = new NodeParts(
                config, raft, machine, members.clientAddresses(), ticker, java.time.Clock.systemUTC(), bugs, metrics);
        startRaft(config, raft, parts, raftDir);
        Backups.removeLeftovers(config.dataDir()); // Ratis holds the directory's lock; nothing serves yet
        HoldfastServer server = new HoldfastServer(config, raft, parts);
        server.serveClients();
        server.serveHttp();
        server.addEndpoint(LostMajority.start(parts.gateway(), parts.ticker()));
        server.addEndpoint(DeadLeaderWatch.start(parts.gateway(), parts.ticker()));
        LeaderRehearsal.startIfClustered(config, ticker, parts::leadership).ifPresent(server::addEndpoint);
        if (reportsVersion) {
            server.reportVersion(members.group());
        }
        server.watchDivision(
                JoinRescue.startIfJoining(startGroup, raft, config, machine, parts.ticker(), parts.halt()::complete));
        LOG.info(
                "Node {} started: Raft on {}, data in {}",
                config.nodeId(),
                config.self().raftAddress(),
                config.dataDir());
        return server;
    }

    /** Starts Ratis; on failure closes the service and the Raft server before it says why. */
    private static void startRaft(ServerConfig config, RaftServer raft, NodeParts parts, Path raftDir)
            throws StartupException {
        try {
            raft.start();
        } catch (IOException | RuntimeException e) {
            parts.close();
            closeQuietly(raft);
            throw new StartupException(
                    "cannot start node " + config.nodeId() + " with the data in " + raftDir
                            + " (is the Raft log or snapshot damaged?): " + Causes.rootMessage(e),
                    e);
        }
    }

    /**
     * The Ratis settings every node runs with, for the configuration {@code config} and the Raft
     * directory {@code raftDir} ({@link RaftSettings}). Public so that {@code holdfast-bench}'s Raft
     * floor measures Ratis with exactly these settings; nothing else should build a Ratis server.
     */
    public static RaftProperties raftProperties(ServerConfig config, Path raftDir) {
        return RaftSettings.properties(config, raftDir);
    }

    /**
     * Opens the client port: gRPC over TLS with TLS, else frames and gRPC on one port (see {@link
     * ClientPort}). A leader hint names the leader's client port, which speaks the same. On failure
     * closes the node before it says why.
     */
    private void serveClients() throws StartupException {
        try {
            ClientPort grpc = ClientPort.start(
                    config.bindHost(),
                    config.clientPort(),
                    parts.service(),
                    config.tls(),
                    config.clientAuth(),
                    config.auth() == null ? null : parts.authenticator(),
                    parts.authFailures());
            clientPort = grpc.port();
            parts.metrics().unparsableRequests(grpc::unparsableRequests);
            addEndpoint(grpc);
        } catch (RuntimeException e) {
            close();
            throw new StartupException(
                    "cannot serve clients on " + config.bindHost() + ":" + config.clientPort() + ": "
                            + Causes.rootMessage(e),
                    e);
        }
    }

    /** Opens the HTTP port, unless it is off (negative); on failure closes the node before it says why. */
    private void serveHttp() throws StartupException {
        if (config.httpPort() < 0) {
            return;
        }
        try {
            HttpEndpoint health = HttpEndpoint.start(parts, config.bindHost(), config.httpPort());
            httpPort = health.port();
            addEndpoint(health);
        } catch (IOException e) {
            close();
            throw new StartupException(
                    "cannot serve HTTP on " + config.bindHost() + ":" + config.httpPort() + ": "
                            + Causes.rootMessage(e),
                    e);
        }
    }

    /** Reports this member's protocol version and HTTP address to the others ({@link VersionReport}). */
    private void reportVersion(RaftGroup group) {
        addEndpoint(new VersionReport(
                raft, group, config.nodeId(), parts.machine(), RaftSettings.parameters(config), httpPort));
    }

    /**
     * Watches for Ratis closing the division ({@link DivisionWatch}), after a new member's rescue
     * ({@link JoinRescue}). Last added, first closed: a stop or a rescue is never taken for a close.
     */
    private void watchDivision(JoinRescue rescue) {
        addEndpoint(rescue);
        addEndpoint(DivisionWatch.start(
                raft,
                RaftSettings.GROUP_ID,
                config.nodeId(),
                RaftSettings.parameters(config),
                parts.halt()::complete,
                parts.removal()::complete,
                () -> parts.halt().isDone() || rescue.restarting()));
    }

    /** Adds an endpoint (gRPC, HTTP) that is closed with the node. */
    public void addEndpoint(AutoCloseable endpoint) {
        endpoints.add(endpoint);
    }

    /**
     * Backs the table up every {@code every} into {@code dir} while this node leads, keeping the
     * newest {@code keep} ({@link BackupSchedule}); the schedule stops with the node.
     *
     * @throws IllegalArgumentException for an interval of zero or less, or {@code keep} below 1
     * @throws IOException when {@code dir} cannot be created
     */
    public BackupSchedule scheduleBackups(Duration every, Path dir, int keep) throws IOException {
        BackupSchedule schedule = BackupSchedule.start(parts, every, dir, keep);
        addEndpoint(schedule);
        return schedule;
    }

    /**
     * Backs the table up every {@code every} into {@code store} (a directory, or a bucket's prefix),
     * encrypted with {@code key} (null: not encrypted), while this node leads, keeping the newest
     * {@code keep}; the schedule stops with the node, and closes the store.
     *
     * @throws IllegalArgumentException for an interval of zero or less, or {@code keep} below 1
     */
    public BackupSchedule scheduleBackups(
            Duration every,
            io.holdfast.server.backup.BackupStore store,
            io.holdfast.server.backup.BackupKey key,
            int keep) {
        BackupSchedule schedule = BackupSchedule.start(parts, every, store, key, keep);
        addEndpoint(schedule);
        return schedule;
    }

    /** The node's lock service: what its client endpoint serves. */
    public LockService lockService() {
        return parts.service();
    }

    /** The client (gRPC) port actually bound. */
    public int clientPort() {
        return clientPort;
    }

    /** The HTTP port actually bound, or -1 without one. */
    public int httpPort() {
        return httpPort;
    }

    public ServerConfig config() {
        return config;
    }

    /** Whether this node currently leads (and has caught up as leader). */
    public boolean isLeader() {
        return parts.leads();
    }

    /**
     * What this node says of itself now: whether it leads, the leader it knows, its term and last
     * applied index, and its cluster's id. Each field is read on its own, so the record is not one
     * instant's picture; {@code parts().machine().digest()} is (an index and a checksum together).
     */
    public NodeStatus status() {
        long term = -1;
        long applied = -1;
        try {
            var info = parts.division().getInfo();
            term = info.getCurrentTerm();
            applied = info.getLastAppliedIndex();
        } catch (IOException e) {
            // the division is not readable (closed): unknown, as documented
        }
        return new NodeStatus(
                config.nodeId(),
                parts.leads(),
                parts.leaderId(),
                term,
                applied,
                parts.identity().current());
    }

    /**
     * Completes, with a one-line reason, if this node stopped applying the log because an entry
     * holds a command its build cannot read (a newer build wrote it), or Ratis closed its division
     * ({@code DivisionWatch}) but not because it was removed ({@link #removed()}); the node then serves
     * nothing, and {@code holdfast server} exits with 71.
     */
    public CompletableFuture<String> halted() {
        return parts.halt().copy();
    }

    /** Completes with its one INFO line when this node was removed from the members; it then serves nothing. */
    public CompletableFuture<String> removed() {
        return parts.removal().copy();
    }

    /**
     * The parts of this node ({@link NodeParts}), for the lab: tests, the verifier and the
     * benchmarks read the table, its digest, the audit trail or the metrics through them. No
     * compatibility promise; an application that embeds a node uses the accessors above.
     */
    public NodeParts parts() {
        return parts;
    }

    /**
     * Stops the node: a leader first hands its leadership to a follower ({@link LeaderHandOver}),
     * then the endpoints, the node's parts and Raft close. It closes once: a second call, at the same
     * time from another thread (a shutdown hook) or later, returns when the first one is done.
     */
    @Override
    public void close() {
        close(true);
    }

    /**
     * Stops the node as {@link #close()} does, without first handing its leadership to a follower:
     * for a whole cluster stopping at once, where every follower is stopping too and the hand-over
     * could only wait for their silence. Closes once, with {@link #close()}.
     */
    public void closeWithoutHandOver() {
        close(false);
    }

    private synchronized void close(boolean handOver) {
        if (closed) {
            return;
        }
        closed = true;
        if (handOver) {
            LeaderHandOver.run(raft, RaftSettings.GROUP_ID, config, parts.ticker());
        }
        for (int i = endpoints.size() - 1; i >= 0; i--) {
            closeQuietly(endpoints.get(i));
        }
        parts.close();
        closeQuietly(raft);
        LOG.info("Node {} stopped", config.nodeId());
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            LOG.warn("Closing {} failed", c, e);
        }
    }
}
