// Ceiling 420 lines, one idea: the parts of one node, built once in the order they depend on each other, and the one
// place that answers "which gateway, which clock, which table".
package io.holdfast.server.node;

import io.holdfast.Ticker;
import io.holdfast.core.AccessRules;
import io.holdfast.core.ChangeLog;
import io.holdfast.core.LockTable;
import io.holdfast.core.PlantedBug;
import io.holdfast.endpoint.AuthFailures;
import io.holdfast.endpoint.Authenticator;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.server.config.RaftSettings;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.config.StartupException;
import io.holdfast.server.leadership.LeaderDuties;
import io.holdfast.server.leadership.LeaderReads;
import io.holdfast.server.leadership.LeaseRefusals;
import io.holdfast.server.leadership.RaftGateway;
import io.holdfast.server.membership.ClusterIdentity;
import io.holdfast.server.membership.ClusterVersion;
import io.holdfast.server.membership.Membership;
import io.holdfast.server.membership.VersionAdmission;
import io.holdfast.server.membership.VersionReport;
import io.holdfast.server.raft.ClusterIdRecord;
import io.holdfast.server.raft.LockStateMachine;
import java.io.IOException;
import java.time.Clock;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;

/**
 * The parts of one node's lock service, each built once, here, in the order they depend on each
 * other: the one place that wires a node's service, and the one set of dependencies its parts hold
 * (Consul's {@code Deps}). The service ({@link RaftLockService}), the state machine's hooks ({@link
 * NodeHooks}), the HTTP port and backups keep a reference to this object and ask it for the part
 * they need when they need it; nobody copies a part into fields of its own, so there is one answer
 * to "which gateway, which clock, which table" in a node. {@code HoldfastServer} opens the
 * storage, builds the Raft server and this object, then starts Raft and the endpoints around it.
 *
 * <p><b>Guarantees.</b> Every part is built before the Raft server starts, and the state machine's
 * hooks and command admission are set on it before then too, so no applied entry and no proposal
 * meets a half-wired node. {@link #close} closes what this object started (the leader's timers, the
 * proposer, the event threads and subscriptions), once; the Raft server is its owner's to close.
 *
 * <p><b>Not guaranteed:</b> that a part is usable before the Raft server runs (reads of the table
 * are; anything that asks Ratis is not).
 */
public final class NodeParts implements AutoCloseable {

    private final ServerConfig config;
    private final RaftServer raft;
    private final RaftPeerId selfId;
    private final LockStateMachine machine;
    private final ServerMetrics metrics;
    private final Ticker ticker;
    /** The date of day: the stamps of backups, never a lease or a timeout. */
    private final Clock wallClock;

    private final LeaseRefusals leaseRefusals;
    private final AuthFailures authFailures;
    private final RaftGateway gateway;
    private final ClusterVersion clusterVersion;
    private final Membership membership;
    private final EventRouter events;
    private final SessionEvents sessionEvents;
    private final ChangeLog changeLog;
    private final ExecutorService changeWakeups;
    private final Proposer proposer;
    private final AuditLog audit;
    private final LeaderDuties duties;
    private final LeaderReads reads;
    private final NodeInspector inspector;
    private final ClusterIdentity identity;
    private final AccessRules initialRules;
    private final Set<PlantedBug> bugs;
    private final CompletableFuture<String> halt = new CompletableFuture<>();
    private final CompletableFuture<String> removal = new CompletableFuture<>();
    private final RaftLockService service;
    /** The bound on session opens waiting for the log, shared by both client ports. */
    private final SessionOpenGate sessionOpens = new SessionOpenGate(SessionOpenGate.MAX_IN_FLIGHT);

    private final Heartbeats heartbeats;
    private final LeaderAsks asks;

    /**
     * Wires the service of a node whose Raft server is built but not started.
     *
     * @param clientAddresses the members' client addresses given at start
     * @param bugs planted bugs (verification only); grant-without-quorum,
     *     release-lost-on-step-down and follower-extends-ttl matter here
     * @throws StartupException when the data directory's cluster id cannot be read
     */
    public NodeParts(
            ServerConfig config,
            RaftServer raft,
            LockStateMachine machine,
            Map<RaftPeerId, String> clientAddresses,
            Ticker ticker,
            Clock wallClock,
            Set<PlantedBug> bugs,
            ServerMetrics metrics)
            throws StartupException {
        String self = config.nodeId();
        this.config = config;
        this.raft = raft;
        this.selfId = RaftPeerId.valueOf(self);
        this.machine = machine;
        this.metrics = metrics;
        this.ticker = ticker;
        this.wallClock = wallClock;
        this.bugs = Set.copyOf(bugs);
        this.initialRules = config.auth() == null ? null : config.auth().rules();
        this.identity = new ClusterIdentity(config.dataDir(), self, halt::complete);
        this.leaseRefusals = new LeaseRefusals(self, ticker);
        metrics.leaseCheckRefusals(leaseRefusals);
        this.authFailures = new AuthFailures(ticker);
        metrics.authFailures(authFailures);
        this.gateway =
                new RaftGateway(raft, RaftSettings.GROUP_ID, selfId, clientAddresses, this::leads, leaseRefusals);
        this.clusterVersion = new ClusterVersion(machine);
        VersionAdmission admission = new VersionAdmission(clusterVersion, ticker);
        this.membership = new Membership(raft, RaftSettings.GROUP_ID, selfId, ticker, gateway::notLeader, admission);
        this.events = new EventRouter(self);
        this.sessionEvents = new SessionEvents(self);
        this.changeWakeups = Executors.newSingleThreadExecutor(DaemonThreads.named("holdfast-watches-" + self));
        this.changeLog = new ChangeLog();
        this.proposer = new Proposer(self, this::write);
        this.audit = new AuditLog(self);
        this.duties = new LeaderDuties(self, ticker, machine, proposer::propose);
        this.asks = new LeaderAsks(
                config,
                raft,
                ticker,
                machine,
                gateway,
                this::knowsLeader,
                duties::isActive,
                ids -> heartbeats().round(ids),
                bugs.contains(PlantedBug.FOLLOWER_EXTENDS_TTL));
        this.reads = new LeaderReads(
                gateway,
                duties,
                machine,
                asks.forwardLink(),
                asks.forwardPool(),
                this::knowsLeader,
                asks.timer(),
                LeaderAsks.CATCH_UP_MILLIS);
        this.inspector = new NodeInspector(gateway, machine, clusterVersion, duties, this::isAdmin, ticker);
        this.heartbeats = new Heartbeats(this);
        this.service = new RaftLockService(this);
        machine.setHooks(new NodeHooks(this));
        machine.setTicker(ticker);
        machine.setAdmission(clusterVersion);
        var loaded = machine.getLastAppliedTermIndex();
        if (loaded != null && loaded.getIndex() > 0) {
            sessionEvents.loaded(loaded.getIndex()); // a snapshot loaded before the hooks were set
            changeLog.loaded(loaded.getIndex());
        }
        machine.read(ClusterIdRecord::inTable).ifPresent(identity::seen);
        metrics.memberContact(gateway::memberContactMillis);
        metrics.bind(
                ticker,
                () -> machine.read(LockTable::stats),
                () -> machine.read(LockTable::refusals),
                duties::isActive,
                gateway::term,
                () -> {
                    var last = machine.getLastAppliedTermIndex();
                    return last == null ? -1L : last.getIndex();
                });
    }

    /** How this node runs: its id, members, ports, data directory, TLS and access control. */
    public ServerConfig config() {
        return config;
    }

    /** The Raft server (Ratis) this node's service runs in. */
    public RaftServer raft() {
        return raft;
    }

    /** This node's Raft division (the one group every Holdfast node runs). */
    public RaftServer.Division division() throws IOException {
        return raft.getDivision(RaftSettings.GROUP_ID);
    }

    /** This node's id as Ratis knows it. */
    public RaftPeerId selfId() {
        return selfId;
    }

    /** The state machine over the lock table; the Raft server was built with it. */
    public LockStateMachine machine() {
        return machine;
    }

    /** Every meter of the node. */
    public ServerMetrics metrics() {
        return metrics;
    }

    /** The date of day, for what is stamped with it (backups); never for a lease or a timeout. */
    public Clock wallClock() {
        return wallClock;
    }

    /** The node's time: leases, leader duties and the latencies in {@link #metrics}. */
    public Ticker ticker() {
        return ticker;
    }

    /** The lease check's refusals, counted and logged. */
    public LeaseRefusals leaseRefusals() {
        return leaseRefusals;
    }

    /** Writes and read barriers into the Raft group, the leader's lease, who leads. */
    public RaftGateway gateway() {
        return gateway;
    }

    /** The cluster's protocol version, and which commands the leader may log by it. */
    public ClusterVersion clusterVersion() {
        return clusterVersion;
    }

    /** Changes of the members. */
    public Membership membership() {
        return membership;
    }

    /** Events to this node's subscribers, in order. */
    public EventRouter events() {
        return events;
    }

    /** The recent events of every session, for clients that read them over HTTP. */
    public SessionEvents sessionEvents() {
        return sessionEvents;
    }

    /** The recent changes of the table, for watches. */
    public ChangeLog changeLog() {
        return changeLog;
    }

    /** Where watches waiting for a change are woken. */
    public ExecutorService changeWakeups() {
        return changeWakeups;
    }

    /** Batches commands into log entries. */
    public Proposer proposer() {
        return proposer;
    }

    /** The audit trail. */
    public AuditLog audit() {
        return audit;
    }

    /** What only the leader does: the cluster clock, session heartbeats, expiries. */
    public LeaderDuties duties() {
        return duties;
    }

    /** The reads clients make of the table, linearizable, at the leader or through its read index. */
    public LeaderReads reads() {
        return reads;
    }

    /** What operators read of this node. */
    public NodeInspector inspector() {
        return inspector;
    }

    /** The cluster's identity as this node keeps it. */
    public ClusterIdentity identity() {
        return identity;
    }

    /** The access rules this node requires ({@code --auth-rules}); null if none. */
    public AccessRules initialRules() {
        return initialRules;
    }

    /** Whether {@code bug} is planted in this node (verification only). */
    public boolean planted(PlantedBug bug) {
        return bugs.contains(bug);
    }

    /** Completes with the reason when this replica stopped applying the log or Ratis closed its division. */
    public CompletableFuture<String> halt() {
        return halt;
    }

    /** Completes with the line saying so when this node was removed from the members ({@code DivisionWatch}). */
    public CompletableFuture<String> removal() {
        return removal;
    }

    /** This member's relay of its clients' heartbeats to the leader (ADR 0003). */
    public SessionRelay relay() {
        return asks.relay();
    }

    /** The forwarding of writes to the leader at a member that does not lead (ADR 0003). */
    WriteForwarding forwarding() {
        return asks.forwarding();
    }

    /** The leader's verdict on heartbeats, sent to it or relayed by a member. */
    public Heartbeats heartbeats() {
        return heartbeats;
    }

    /**
     * The lock service of both client ports, the client port's and the HTTP port's: every member
     * serves a session (ADR 0003).
     */
    public RaftLockService service() {
        return service;
    }

    /** The bound on session opens waiting for the log, the same for every port of this node. */
    SessionOpenGate sessionOpens() {
        return sessionOpens;
    }

    /** Whether this node serves as the leader now (its leader duties run). */
    public boolean leads() {
        return duties.isActive();
    }

    /** Whether this node requires access rules ({@code --auth-rules}) and none are in force yet. */
    public boolean rulesPending() {
        return initialRules != null && machine.read(t -> t.accessRules() == null);
    }

    /** Whether the identity is an admin (or access control is off); nobody is while {@link #rulesPending}. */
    public boolean isAdmin(String identity) {
        return !rulesPending() && machine.read(t -> t.isAdmin(identity));
    }

    /** Who calls, on the client and HTTP ports: tokens, certificates and this replica's deny list of tokens. */
    public Authenticator authenticator() {
        ServerConfig.Auth auth = config.auth() == null ? new ServerConfig.Auth(null, null) : config.auth();
        return new Authenticator(
                auth.tokens(), auth.required(), jti -> machine.read(t -> t.isTokenRevoked(jti)), authFailures);
    }

    /** The failed authentications on every port of this node, counted and logged. */
    public AuthFailures authFailures() {
        return authFailures;
    }

    /**
     * Whether this node knows of another member that leads: what a member that does not lead
     * forwards writes to. Not while it knows none (cut off, an election under way), nor while Ratis
     * still takes this node for the leader though its duties do not run (it steps down, or it is
     * not ready yet).
     */
    boolean knowsLeader() {
        String leader = leaderId();
        return leader != null && !leader.equals(selfId.toString());
    }

    /** The id of the leader this node knows of, or null. */
    public String leaderId() {
        try {
            RaftPeerId id = division().getInfo().getLeaderId();
            return id == null ? null : id.toString();
        } catch (IOException e) {
            return null;
        }
    }

    /** The leader this node knows of and its term, as {@code leader@term}; null while it knows none. */
    public String leadership() {
        String leader = leaderId();
        return leader == null ? null : leader + "@" + gateway.term();
    }

    /** The leader's HTTP address ({@code host:port}) as the members reported it, or null. */
    public String leaderHttpAddress() {
        return VersionReport.leaderHttpAddress(raft, RaftSettings.GROUP_ID, machine);
    }

    /** Stops the leader's timers, the proposer and the event threads, and ends every subscription. */
    @Override
    public void close() {
        asks.close();
        machine.appliedWaits().close();
        duties.close();
        proposer.close();
        NodeHooks.endSubscriptions(this, "the server is shutting down");
        events.close();
        sessionEvents.close();
        changeWakeups.shutdown();
    }

    /** Writes one entry through Raft; completes with the entry's reply bytes. */
    private CompletableFuture<byte[]> write(byte[] entry) {
        long start = ticker.nanos();
        return gateway.write(entry).thenApply(reply -> {
            metrics.raftCommit(ticker.nanos() - start);
            return reply.getMessage().getContent().toByteArray();
        });
    }
}
