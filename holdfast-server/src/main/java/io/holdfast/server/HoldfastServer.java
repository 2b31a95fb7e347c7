// Ceiling 605 lines, one idea: a node's start and stop (storage, Ratis properties, the service, endpoints, TLS,
// authentication) in the order they happen.
package io.holdfast.server;

import io.holdfast.Ticker;
import io.holdfast.core.PlantedBug;
import io.holdfast.core.Vocabulary;
import io.holdfast.endpoint.Authenticator;
import io.holdfast.endpoint.ClientPort;
import io.holdfast.model.LockService;
import io.holdfast.protocol.TlsFiles;
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
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
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
    private final RaftLockService service;
    private final List<AutoCloseable> endpoints = new ArrayList<>();

    private volatile int httpPort = -1;
    private volatile int clientPort = -1;

    private final ServerMetrics metrics;

    private HoldfastServer(ServerConfig config, RaftServer raft, RaftLockService service, ServerMetrics metrics) {
        this.config = config;
        this.raft = raft;
        this.service = service;
        this.metrics = metrics;
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
        if (!bugs.isEmpty()) {
            LOG.warn(
                    "Node {} runs with PLANTED BUGS (verification only; it is NOT a correct lock service): {}",
                    config.nodeId(),
                    bugs.stream().map(PlantedBug::cliName).sorted().collect(Collectors.joining(", ")));
        }
        ServerConfig.Peer self = config.self();
        if (config.tls() != null) {
            try {
                config.tls().check();
            } catch (IllegalArgumentException e) {
                throw new StartupException(e.getMessage(), e);
            }
        }
        Path raftDir = prepareDataDir(config.dataDir());
        checkPortFree(config.bindHost(), self.raftPort(), "Raft");
        if (config.clientPort() != 0) {
            checkPortFree(config.bindHost(), config.clientPort(), "client");
        }
        if (config.httpPort() > 0) {
            checkPortFree(config.bindHost(), config.httpPort(), "HTTP");
        }
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
        RaftGroup group = RaftGroup.valueOf(GROUP_ID, peers);
        RecordedMembers.check(config, raftDir.resolve(GROUP_ID.getUuid().toString()))
                .ifPresent(LOG::warn);
        // A new member not added yet starts knowing no members: it stands for no election (RejoinGuard).
        RaftGroup startGroup = RejoinGuard.check(
                config, group, raftDir.resolve(GROUP_ID.getUuid().toString()), parameters(config));
        ClusterIdentity.checkPeers(
                config.nodeId(),
                config.dataDir(),
                ClusterIdentity.read(config.dataDir()).orElse(null),
                peers.stream()
                        .map(p -> p.getId().toString())
                        .filter(id -> !id.equals(config.nodeId()))
                        .toList(),
                id -> ClusterIdentity.ask(group.getPeer(RaftPeerId.valueOf(id)), group, parameters(config)));
        LockStateMachine machine = new LockStateMachine(bugs, vocabulary);
        RaftProperties properties = raftProperties(config, raftDir);
        ServerMetrics metrics = new ServerMetrics(config.nodeId());
        checkLog(raftDir, properties, metrics);
        RaftServer raft;
        try {
            raft = RaftServer.newBuilder()
                    .setServerId(RaftPeerId.valueOf(config.nodeId()))
                    .setGroup(startGroup)
                    .setStateMachine(machine)
                    .setProperties(properties)
                    .setParameters(parameters(config))
                    .setOption(RaftStorage.StartupOption.RECOVER)
                    .build();
        } catch (IOException | RuntimeException e) {
            throw new StartupException("cannot set up the Raft server in " + raftDir + ": " + rootMessage(e), e);
        }
        RaftLockService service = new RaftLockService(
                raft,
                GROUP_ID,
                RaftPeerId.valueOf(config.nodeId()),
                machine,
                clientAddresses,
                Ticker.system(),
                bugs,
                metrics);
        if (config.auth() != null && config.auth().rules() != null) {
            service.requireAccessRules(config.auth().rules());
        }
        service.keepIdentity(new ClusterIdentity(config.dataDir(), config.nodeId(), service::halted));
        try {
            raft.start();
        } catch (IOException | RuntimeException e) {
            service.close();
            closeQuietly(raft);
            throw new StartupException(
                    "cannot start node " + config.nodeId() + " with the data in " + raftDir
                            + " (is the Raft log or snapshot damaged?): " + rootMessage(e),
                    e);
        }
        HoldfastServer server = new HoldfastServer(config, raft, service, metrics);
        try {
            server.serveClients(service);
        } catch (RuntimeException e) {
            server.close();
            throw new StartupException(
                    "cannot serve clients on " + config.bindHost() + ":" + config.clientPort() + ": " + rootMessage(e),
                    e);
        }
        if (config.httpPort() >= 0) {
            try {
                HttpEndpoint health = HttpEndpoint.start(server, config.bindHost(), config.httpPort());
                server.httpPort = health.port();
                server.addEndpoint(health);
            } catch (IOException e) {
                server.close();
                throw new StartupException(
                        "cannot serve HTTP on " + config.bindHost() + ":" + config.httpPort() + ": " + rootMessage(e),
                        e);
            }
        }
        if (reportsVersion) {
            server.addEndpoint(
                    new VersionReport(raft, group, config.nodeId(), machine, parameters(config), server.httpPort));
        }
        // Last added, first closed: a stop is never taken for Ratis closing the division by itself.
        server.addEndpoint(DivisionWatch.start(
                raft,
                GROUP_ID,
                config.nodeId(),
                parameters(config),
                service::halted,
                service.removal::complete,
                service.halt::isDone));
        LOG.info("Node {} started: Raft on {}, data in {}", config.nodeId(), self.raftAddress(), config.dataDir());
        return server;
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
     * With TLS on, every connection of the Raft port (peers, and Ratis's own client and admin
     * services on the same port) is mutually authenticated TLS against the node's CA: a process
     * without a certificate from that CA can neither join nor append to the log.
     */
    private static Parameters parameters(ServerConfig config) {
        Parameters parameters = new Parameters();
        TlsFiles tls = config.tls();
        if (tls != null) {
            GrpcTlsConfig peers = new GrpcTlsConfig(
                    tls.privateKey().toFile(),
                    tls.certificate().toFile(),
                    tls.trustedCa().toFile(),
                    true);
            GrpcConfigKeys.Server.setTlsConf(parameters, peers);
            GrpcConfigKeys.Admin.setTlsConf(parameters, peers);
            GrpcConfigKeys.Client.setTlsConf(parameters, peers);
        }
        return parameters;
    }

    /**
     * The Ratis settings every node runs with, for the configuration {@code config} and the Raft
     * directory {@code raftDir}. Public so that {@code holdfast-bench}'s Raft floor measures Ratis
     * with exactly these settings; nothing else should build a Ratis server.
     */
    public static RaftProperties raftProperties(ServerConfig config, Path raftDir) {
        RaftProperties p = new RaftProperties();
        RaftServerConfigKeys.setStorageDir(p, List.of(raftDir.toFile()));
        RaftServerConfigKeys.setStorageFreeSpaceMin(p, SizeInBytes.valueOf("16MB"));
        GrpcConfigKeys.Server.setHost(p, config.bindHost());
        GrpcConfigKeys.Server.setPort(p, config.self().raftPort());
        // Correctness settings (see VERIFICATION.md): linearizable reads, durable appends, loud corruption.
        RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
        RaftServerConfigKeys.Log.setUnsafeFlushEnabled(p, !config.fsync());
        RaftServerConfigKeys.Log.setAsyncFlushEnabled(p, false);
        RaftServerConfigKeys.Log.setCorruptionPolicy(p, RaftServerConfigKeys.Log.CorruptionPolicy.EXCEPTION);
        // A follower writes appends one after the other, never "composed". Ratis 3.3.0's compose
        // path (on by default) remembers the appends still being written by their first index
        // only, and drops an append whose first index is pending as a duplicate whatever its
        // term: the new leader's entries are acknowledged but the old leader's stay in the log,
        // and are applied once committed. Replicas diverge (holdfast verify's one-way scenario
        // caught it; FollowerAppendTest fails with it on).
        RaftServerConfigKeys.Log.setAppendEntriesComposeEnabled(p, false);
        // No METADATAENTRY after every commit. By default the leader appends one log entry that
        // records the new commit index each time the commit index moves, and replicates it like any
        // other entry: every command then cost two log entries, two fsyncs on every member and two
        // replication rounds (measured: 4.00 entries per acquire+release pair with it, 2.00 without,
        // and twice the log syncs, on one node and on three). The next command's write queues
        // behind that extra fsync on the leader and on each follower. Raft does not need the commit
        // index on disk: after a restart it is learnt again from the leader (or, alone, from the
        // first entry of the new term), and every acknowledged command is already in the log
        // of a majority and fsynced, so durability is unchanged.
        RaftServerConfigKeys.Log.setLogMetadataEnabled(p, false);
        // No pause between two appendEntries to a follower. Ratis's default (1 ms) makes the log
        // appender sleep until 1 ms has passed since its last send: the append that carries the
        // commit index of one command, sent right after the majority answered, then waits, and the
        // next command's entries wait behind it. For one client that is up to a millisecond per
        // write on a cluster; batching comes from the appender being busy, not from sleeping.
        // Apache Ozone's SCM sets the same (ozone.scm.ha.raft.server.log.appender.wait-time.min).
        RaftServerConfigKeys.Log.Appender.setWaitTimeMin(p, TimeDuration.ZERO);
        // The leader's appender to a follower waits between failures by this policy (each wait
        // random in half to one and a half times its stage's), and an INCONSISTENCY reply, the
        // first answer of a follower that fell behind, is a failure too. Ratis's default, "1ms,10,
        // 1s,20, 5s,1000", waits 5 s from the 31st failure in a row (a follower down for 15 s, or
        // cut off for a few: each request that times out counts): a healed follower then waited out
        // the wait under way and one more after its first answer, and stayed 7 to 13 s behind
        // (holdfast verify's ring and partition scenarios, and HealCatchUpTest, measured it). Here
        // no wait is longer than 300 ms (200 on average) for as long as the failures last, so a
        // healed follower is tried again within 300 ms. The cost: the leader tries a dead follower
        // (a refused connect, a log line batched every 5 s) several times a second instead of
        // every 5 s, until it is back or removed.
        RaftServerConfigKeys.Log.Appender.setRetryPolicy(p, "1ms,10, 200ms," + Integer.MAX_VALUE);
        long min = config.electionTimeoutMin().toMillis();
        RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(min, TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(min * 2, TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMin(p, TimeDuration.valueOf(min / 2, TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMax(p, TimeDuration.valueOf(min, TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
        // holdfast.raft.snapshotEvery (entries, default 20,000) is for verification only: its
        // snapshot-catch-up scenario needs a leader that snapshots and purges its log after a few
        // hundred entries, so that a follower that was down must be sent a snapshot.
        long snapshotEvery = Long.getLong("holdfast.raft.snapshotEvery", 20_000);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, snapshotEvery);
        if (snapshotEvery < 20_000) {
            RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf("8KB"));
            RaftServerConfigKeys.Log.setPurgeGap(p, 1);
        }
        RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, 2);
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
        return p;
    }

    private static Path prepareDataDir(Path dataDir) throws StartupException {
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

    /**
     * Opens the client port: gRPC over TLS with TLS, else frames and gRPC on one port (see {@link
     * ClientPort}). A leader hint names the leader's client port, which speaks the same.
     */
    private void serveClients(RaftLockService service) {
        ClientPort grpc = ClientPort.start(
                config.bindHost(),
                config.clientPort(),
                service,
                config.tls(),
                config.clientAuth(),
                config.auth() == null
                        ? null
                        : new Authenticator(
                                config.auth().tokens(), config.auth().required()));
        clientPort = grpc.port();
        metrics.unparsableRequests(grpc::unparsableRequests);
        addEndpoint(grpc);
    }

    /** Adds an endpoint (gRPC, HTTP) that is closed with the node. */
    public void addEndpoint(AutoCloseable endpoint) {
        endpoints.add(endpoint);
    }

    /** The node's lock service: what its client endpoint serves. */
    public LockService lockService() {
        return service;
    }

    /**
     * The cluster's identity ({@code ClusterIdentity}) as this node knows it: from its data
     * directory, or from the table once the first leader recorded it; null until then.
     */
    public UUID clusterId() {
        return service.clusterId();
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
        return service.isLeader();
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
        return VersionReport.leaderHttpAddress(raft, GROUP_ID, service.machine());
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

    RaftLockService raftService() {
        return service;
    }

    RaftServer.Division division() throws IOException {
        return raft.getDivision(GROUP_ID);
    }

    ServerMetrics metrics() {
        return metrics;
    }

    /** The access rules this replica has applied; null while access control is off. */
    public io.holdfast.core.AccessRules accessRules() {
        return service.accessRules();
    }

    /**
     * Completes, with a one-line reason, if this node stopped applying the log because an entry
     * holds a command its build cannot read (a newer build wrote it), or Ratis closed its division
     * ({@code DivisionWatch}) but not because it was removed ({@link #removed()}); the node then serves
     * nothing, and {@code holdfast server} exits with 71.
     */
    public CompletableFuture<String> halted() {
        return service.halt.copy();
    }

    /** Completes with its one INFO line when this node was removed from the members; it then serves nothing. */
    public CompletableFuture<String> removed() {
        return service.removal.copy();
    }

    /**
     * The latest audited actions on this replica, oldest first: the revokes and access-rule
     * changes it applied, and the changes of the members it made as leader.
     */
    public List<AuditLog.Entry> audit() {
        return service.audit();
    }

    /**
     * Refusals on this replica since it started (or last loaded a snapshot): per quota, and
     * {@code permission-denied}.
     */
    public Map<String, Long> refusals() {
        return service.refusals();
    }

    /** The table in its canonical snapshot form, to compare replicas (tests, verification). */
    byte[] tableBytes() {
        return service.tableBytes();
    }

    /**
     * This replica's applied index and a checksum of its table, as {@code "index:crc32"}: two
     * replicas that show the same index must show the same checksum (verification compares them).
     */
    public String tableDigest() {
        return service.tableDigest();
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
        service.close();
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
