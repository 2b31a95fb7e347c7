// Ceiling 585 lines, one idea: a node's start as steps in order (storage, peers, Raft, parts, endpoints), and its stop.
package io.holdfast.server;

import io.holdfast.Ticker;
import io.holdfast.core.PlantedBug;
import io.holdfast.core.Vocabulary;
import io.holdfast.endpoint.Authenticator;
import io.holdfast.endpoint.ClientPort;
import io.holdfast.model.LockService;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
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
     * Ratis's shaded gRPC writes "INFO: Epoll available during static init of TcpMetrics" through
     * java.util.logging, on stderr, the first time a node opens a channel to a peer (the rejoin
     * guard's question, the log appenders): before a refusal's one line, too. Held here so that the
     * level sticks (java.util.logging keeps loggers weakly).
     */
    private static final java.util.logging.Logger QUIET_TCP_METRICS =
            java.util.logging.Logger.getLogger("org.apache.ratis.thirdparty.io.grpc.netty.TcpMetrics");

    static {
        QUIET_TCP_METRICS.setLevel(java.util.logging.Level.WARNING);
    }

    /** The Raft group every Holdfast cluster uses; one cluster per set of data directories. */
    static final RaftGroupId GROUP_ID =
            RaftGroupId.valueOf(UUID.nameUUIDFromBytes("holdfast".getBytes(java.nio.charset.StandardCharsets.UTF_8)));

    private final ServerConfig config;
    private final RaftServer raft;
    private final NodeParts parts;
    private final List<AutoCloseable> endpoints = new ArrayList<>();

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
        warnOfPlantedBugs(config, bugs);
        checkTlsFiles(config);
        Path raftDir = openStorage(config.dataDir());
        checkPortsFree(config);
        Members members = Members.of(config);
        TransportCheck.check(config, members.group());
        RaftGroup startGroup = startGroup(config, members.group(), raftDir);
        checkPeersClusterId(config, members);
        LockStateMachine machine = new LockStateMachine(bugs, vocabulary);
        RaftProperties properties = raftProperties(config, raftDir);
        ServerMetrics metrics = new ServerMetrics(config.nodeId());
        checkLog(raftDir, properties, metrics);
        RaftServer raft = buildRaft(config, startGroup, machine, properties, raftDir);
        NodeParts parts =
                new NodeParts(config, raft, machine, members.clientAddresses(), Ticker.system(), bugs, metrics);
        startRaft(config, raft, parts, raftDir);
        Backups.removeLeftovers(config.dataDir()); // Ratis holds the directory's lock; nothing serves yet
        HoldfastServer server = new HoldfastServer(config, raft, parts);
        server.serveClients();
        server.serveHttp();
        server.addEndpoint(LostMajority.start(parts.gateway));
        server.addEndpoint(DeadLeaderWatch.start(parts.gateway));
        if (reportsVersion) {
            server.reportVersion(members.group());
        }
        server.watchDivision(JoinRescue.startIfJoining(startGroup, raft, config, machine, parts));
        LOG.info(
                "Node {} started: Raft on {}, data in {}",
                config.nodeId(),
                config.self().raftAddress(),
                config.dataDir());
        return server;
    }

    private static void warnOfPlantedBugs(ServerConfig config, Set<PlantedBug> bugs) {
        if (!bugs.isEmpty()) {
            LOG.warn(
                    "Node {} runs with PLANTED BUGS (verification only; it is NOT a correct lock service): {}",
                    config.nodeId(),
                    bugs.stream().map(PlantedBug::cliName).sorted().collect(Collectors.joining(", ")));
        }
    }

    private static void checkTlsFiles(ServerConfig config) throws StartupException {
        if (config.tls() != null) {
            try {
                config.tls().check();
            } catch (IllegalArgumentException e) {
                throw new StartupException(e.getMessage(), e);
            }
        }
    }

    /** The ports this node binds are free now: the Raft port, and the client and HTTP ports if fixed. */
    private static void checkPortsFree(ServerConfig config) throws StartupException {
        checkPortFree(config.bindHost(), config.self().raftPort(), "Raft");
        if (config.clientPort() != 0) {
            checkPortFree(config.bindHost(), config.clientPort(), "client");
        }
        if (config.httpPort() > 0) {
            checkPortFree(config.bindHost(), config.httpPort(), "HTTP");
        }
    }

    /** The members given at start ({@code --peers}): as Raft peers, their client addresses, their group. */
    private record Members(List<RaftPeer> peers, Map<RaftPeerId, String> clientAddresses, RaftGroup group) {
        static Members of(ServerConfig config) {
            List<RaftPeer> peers = new ArrayList<>();
            Map<RaftPeerId, String> clientAddresses = new HashMap<>();
            for (Map.Entry<String, ServerConfig.Peer> e : config.peers().entrySet()) {
                RaftPeerId id = RaftPeerId.valueOf(e.getKey());
                peers.add(RaftPeer.newBuilder()
                        .setId(id)
                        .setAddress(e.getValue().raftAddress())
                        .setClientAddress(e.getValue().clientAddress())
                        .build());
                clientAddresses.put(id, e.getValue().clientAddress());
            }
            return new Members(peers, clientAddresses, RaftGroup.valueOf(GROUP_ID, peers));
        }
    }

    /**
     * The group Ratis starts with: the members given, unless {@link RejoinGuard} finds this a new
     * member not added yet, which starts knowing no members and stands for no election. Warns first
     * when the members given differ from those the log recorded ({@link RecordedMembers}).
     */
    private static RaftGroup startGroup(ServerConfig config, RaftGroup group, Path raftDir) throws StartupException {
        Path groupDir = raftDir.resolve(GROUP_ID.getUuid().toString());
        RecordedMembers.check(config, groupDir).ifPresent(LOG::warn);
        return RejoinGuard.check(config, group, groupDir, RaftSettings.parameters(config));
    }

    /** Refuses to start when a peer belongs to another cluster than this data directory ({@link ClusterIdentity}). */
    private static void checkPeersClusterId(ServerConfig config, Members members) throws StartupException {
        ClusterIdentity.checkPeers(
                config.nodeId(),
                config.dataDir(),
                ClusterIdentity.read(config.dataDir()).orElse(null),
                members.peers().stream()
                        .map(p -> p.getId().toString())
                        .filter(id -> !id.equals(config.nodeId()))
                        .toList(),
                id -> ClusterIdentity.ask(
                        members.group().getPeer(RaftPeerId.valueOf(id)),
                        members.group(),
                        RaftSettings.parameters(config)));
    }

    private static RaftServer buildRaft(
            ServerConfig config,
            RaftGroup startGroup,
            LockStateMachine machine,
            RaftProperties properties,
            Path raftDir)
            throws StartupException {
        try {
            return RaftServer.newBuilder()
                    .setServerId(RaftPeerId.valueOf(config.nodeId()))
                    .setGroup(startGroup)
                    .setStateMachine(machine)
                    .setProperties(properties)
                    .setParameters(RaftSettings.parameters(config))
                    .setOption(RaftStorage.StartupOption.RECOVER)
                    .build();
        } catch (IOException | RuntimeException e) {
            throw new StartupException("cannot set up the Raft server in " + raftDir + ": " + rootMessage(e), e);
        }
    }

    /** Starts Ratis; on failure closes the service and the Raft server before it says why. */
    private static void startRaft(ServerConfig config, RaftServer raft, NodeParts parts, Path raftDir)
            throws StartupException {
        try {
            raft.start();
        } catch (IOException | RuntimeException e) {
            parts.service.close();
            closeQuietly(raft);
            throw new StartupException(
                    "cannot start node " + config.nodeId() + " with the data in " + raftDir
                            + " (is the Raft log or snapshot damaged?): " + rootMessage(e),
                    e);
        }
    }

    /**
     * Reads the Raft log before Ratis does ({@link RaftLogCheck}): a write that the crash of this
     * node interrupted at the very end of the log was never acknowledged, and is cut off (one log
     * line, and {@code holdfast_log_tail_repairs_total}); any other damage stops the start with
     * one line that names the file.
     */
    private static void checkLog(Path raftDir, RaftProperties properties, ServerMetrics metrics)
            throws StartupException {
        Path groupDir = raftDir.resolve(GROUP_ID.getUuid().toString());
        try {
            RaftLogCheck.checkAndRepair(groupDir, RaftServerConfigKeys.Log.Appender.bufferByteLimit(properties))
                    .ifPresent(r -> {
                        LOG.warn(
                                "Repaired a torn write at the end of the Raft log: cut {} at byte {}, dropping {} bytes"
                                        + " (the entry at index {} and anything after it; never acknowledged)",
                                r.file(),
                                r.offset(),
                                r.bytesDropped(),
                                r.index());
                        metrics.logTailRepaired();
                    });
        } catch (RaftLogCheck.Damaged e) {
            throw new StartupException(e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            throw new StartupException("cannot read the Raft log in " + groupDir + ": " + rootMessage(e), e);
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

    /** Creates the data directory's Raft directory and checks that it is writable. */
    private static Path openStorage(Path dataDir) throws StartupException {
        Path raftDir = dataDir.resolve("raft");
        try {
            Files.createDirectories(raftDir);
        } catch (IOException | SecurityException e) {
            throw new StartupException("cannot create the data directory " + dataDir + ": " + rootMessage(e), e);
        }
        File probe = raftDir.resolve(".write-test").toFile();
        try {
            Files.writeString(probe.toPath(), "ok");
            Files.delete(probe.toPath());
        } catch (IOException | SecurityException e) {
            throw new StartupException("the data directory " + dataDir + " is not writable: " + rootMessage(e), e);
        }
        return raftDir;
    }

    private static void checkPortFree(String host, int port, String what) throws StartupException {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(host, port));
        } catch (IOException e) {
            throw new StartupException(
                    "the " + what + " port " + host + ":" + port + " is in use or cannot be bound (" + rootMessage(e)
                            + ")",
                    e);
        }
    }

    /** Who calls, on the client and HTTP ports: tokens, certificates and this replica's deny list of tokens. */
    Authenticator authenticator() {
        ServerConfig.Auth auth = config.auth() == null ? new ServerConfig.Auth(null, null) : config.auth();
        return new Authenticator(auth.tokens(), auth.required(), jti -> parts.machine.read(t -> t.isTokenRevoked(jti)));
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
                    parts.service,
                    config.tls(),
                    config.clientAuth(),
                    config.auth() == null ? null : authenticator());
            clientPort = grpc.port();
            parts.metrics.unparsableRequests(grpc::unparsableRequests);
            addEndpoint(grpc);
        } catch (RuntimeException e) {
            close();
            throw new StartupException(
                    "cannot serve clients on " + config.bindHost() + ":" + config.clientPort() + ": " + rootMessage(e),
                    e);
        }
    }

    /** Opens the HTTP port, unless it is off (negative); on failure closes the node before it says why. */
    private void serveHttp() throws StartupException {
        if (config.httpPort() < 0) {
            return;
        }
        try {
            HttpEndpoint health = HttpEndpoint.start(this, config.bindHost(), config.httpPort());
            httpPort = health.port();
            addEndpoint(health);
        } catch (IOException e) {
            close();
            throw new StartupException(
                    "cannot serve HTTP on " + config.bindHost() + ":" + config.httpPort() + ": " + rootMessage(e), e);
        }
    }

    /** Reports this member's protocol version and HTTP address to the others ({@link VersionReport}). */
    private void reportVersion(RaftGroup group) {
        addEndpoint(new VersionReport(
                raft, group, config.nodeId(), parts.machine, RaftSettings.parameters(config), httpPort));
    }

    /**
     * Watches for Ratis closing the division ({@link DivisionWatch}), after a new member's rescue
     * ({@link JoinRescue}). Last added, first closed: a stop or a rescue is never taken for a close.
     */
    private void watchDivision(JoinRescue rescue) {
        addEndpoint(rescue);
        addEndpoint(DivisionWatch.start(
                raft,
                GROUP_ID,
                config.nodeId(),
                RaftSettings.parameters(config),
                parts.halt::complete,
                parts.removal::complete,
                () -> parts.halt.isDone() || rescue.restarting()));
    }

    /** Adds an endpoint (gRPC, HTTP) that is closed with the node. */
    public void addEndpoint(AutoCloseable endpoint) {
        endpoints.add(endpoint);
    }

    /** The node's lock service: what its client endpoint serves. */
    public LockService lockService() {
        return parts.service;
    }

    /**
     * The cluster's identity ({@code ClusterIdentity}) as this node knows it: from its data
     * directory, or from the table once the first leader recorded it; null until then.
     */
    public UUID clusterId() {
        return parts.identity.current();
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
        return parts.duties.isActive();
    }

    /** The id of the leader this node knows of, or null. */
    public String leaderId() {
        try {
            RaftPeerId id = raft.getDivision(GROUP_ID).getInfo().getLeaderId();
            return id == null ? null : id.toString();
        } catch (IOException e) {
            return null;
        }
    }

    /** The leader's HTTP address ({@code host:port}) as the members reported it, or null. */
    String leaderHttpAddress() {
        return VersionReport.leaderHttpAddress(raft, GROUP_ID, parts.machine);
    }

    /** The current Raft term, or -1 if unknown. */
    public long term() {
        try {
            return raft.getDivision(GROUP_ID).getInfo().getCurrentTerm();
        } catch (IOException e) {
            return -1;
        }
    }

    /** The index of the last log entry this node applied, or -1. */
    public long lastAppliedIndex() {
        try {
            return raft.getDivision(GROUP_ID).getInfo().getLastAppliedIndex();
        } catch (IOException e) {
            return -1;
        }
    }

    /** The lock service, for the HTTP endpoint. */
    RaftLockService raftService() {
        return parts.service;
    }

    /** The parts of this node's service ({@link NodeParts}), for its other users in this package. */
    NodeParts parts() {
        return parts;
    }

    RaftServer.Division division() throws IOException {
        return raft.getDivision(GROUP_ID);
    }

    ServerMetrics metrics() {
        return parts.metrics;
    }

    /** The access rules this replica has applied; null while access control is off. */
    public io.holdfast.core.AccessRules accessRules() {
        return parts.machine.read(io.holdfast.core.LockTable::accessRules);
    }

    /**
     * Completes, with a one-line reason, if this node stopped applying the log because an entry
     * holds a command its build cannot read (a newer build wrote it), or Ratis closed its division
     * ({@code DivisionWatch}) but not because it was removed ({@link #removed()}); the node then serves
     * nothing, and {@code holdfast server} exits with 71.
     */
    public CompletableFuture<String> halted() {
        return parts.halt.copy();
    }

    /** Completes with its one INFO line when this node was removed from the members; it then serves nothing. */
    public CompletableFuture<String> removed() {
        return parts.removal.copy();
    }

    /**
     * The latest audited actions on this replica, oldest first: the revokes and access-rule
     * changes it applied, and the changes of the members it made as leader.
     */
    public List<AuditLog.Entry> audit() {
        return parts.audit.entries();
    }

    /**
     * Refusals on this replica since it started (or last loaded a snapshot): per quota, and
     * {@code permission-denied}.
     */
    public Map<String, Long> refusals() {
        return parts.machine.read(io.holdfast.core.LockTable::refusals);
    }

    /** The table in its canonical snapshot form, to compare replicas (tests, verification). */
    byte[] tableBytes() {
        return parts.machine.tableBytes();
    }

    /**
     * This replica's applied index and a checksum of its table, as {@code "index:crc32"}: two
     * replicas that show the same index must show the same checksum (verification compares them).
     */
    public String tableDigest() {
        return parts.machine.digest();
    }

    /** Takes a snapshot now (for tests and operators); returns its log index. */
    public long takeSnapshot() throws IOException {
        return raft.getDivision(GROUP_ID).getStateMachine().takeSnapshot();
    }

    @Override
    public void close() {
        close(true);
    }

    /**
     * Stops the node without first handing its leadership to a follower: for a whole cluster
     * stopping at once, where every follower is stopping too and the hand-over could only time out.
     */
    void closeWithoutHandOver() {
        close(false);
    }

    private void close(boolean handOver) {
        if (handOver) {
            LeaderHandOver.run(raft, GROUP_ID, config);
        }
        for (int i = endpoints.size() - 1; i >= 0; i--) {
            closeQuietly(endpoints.get(i));
        }
        parts.service.close();
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

    static String rootMessage(Throwable e) {
        Throwable root = io.holdfast.internal.Causes.deepest(e);
        return root == null ? e.getClass().getSimpleName() : io.holdfast.internal.Causes.oneLine(root.getMessage());
    }

    /** A node could not start; the message is one line that says why. */
    public static final class StartupException extends Exception {
        private static final long serialVersionUID = 1L;

        public StartupException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
