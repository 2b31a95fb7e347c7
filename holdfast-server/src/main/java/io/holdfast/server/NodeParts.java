package io.holdfast.server;

import io.holdfast.Ticker;
import io.holdfast.core.AccessRules;
import io.holdfast.core.ChangeLog;
import io.holdfast.core.LockTable;
import io.holdfast.core.PlantedBug;
import io.holdfast.internal.DaemonThreads;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;

/**
 * The parts of one node's lock service, each built once, here, in the order they depend on each
 * other: the one place that wires a node's service ({@link HoldfastServer} opens the storage, the
 * Raft server and the endpoints around it). Every part is built before the Raft server starts and
 * is shared by reference: the service ({@link RaftLockService}) serves with them, and the node's
 * other users ({@link HoldfastServer}'s own accessors, backups, tests) take the part they need from
 * here ({@link HoldfastServer#parts}) rather than through the service.
 *
 * <p>Two parts depend on each other through the service: the gateway refuses reads while this
 * node does not lead ({@link LeaderDuties#isActive}, whose proposals go through the gateway), and
 * the inspector asks the service who is an admin. Both ask through this object, after it is
 * built.
 */
final class NodeParts {
    final RaftPeerId selfId;
    /** The state machine over the lock table; the Raft server was built with it. */
    final LockStateMachine machine;

    final ServerMetrics metrics;
    /** The node's time: leases, leader duties and the latencies in {@link #metrics}. */
    final Ticker ticker;
    /** The lease check's refusals, counted and logged. */
    final LeaseRefusals leaseRefusals;

    final RaftGateway gateway;
    final Membership membership;
    /** Events to this node's subscribers, in order. */
    final EventRouter events;
    /** The recent events of every session, for clients that read them over HTTP. */
    final SessionEvents sessionEvents;
    /** The recent changes of the table, for watches. */
    final ChangeLog changeLog;
    /** Where watches waiting for a change are woken. */
    final ExecutorService changeWakeups;

    final Proposer proposer;
    final AuditLog audit;
    final LeaderDuties duties;
    final NodeInspector inspector;
    /** The cluster's identity as this node keeps it. */
    final ClusterIdentity identity;

    /** The access rules this node requires ({@code --auth-rules}); null if none. */
    final AccessRules initialRules;
    /** Null unless the bug grant-without-quorum is planted. */
    final GrantWithoutQuorum grantWithoutQuorum;
    /** Planted bug release-lost-on-step-down (verification only). */
    final boolean releaseLostOnStepDown;

    /** Completes with the reason when this replica stopped applying the log or Ratis closed its division. */
    final CompletableFuture<String> halt = new CompletableFuture<>();
    /** Completes with the line saying so when this node was removed from the members ({@code DivisionWatch}). */
    final CompletableFuture<String> removal = new CompletableFuture<>();

    /** The lock service, the state machine's hooks. */
    final RaftLockService service;

    /**
     * Wires the service of a node whose Raft server is built but not started.
     *
     * @param clientAddresses the members' client addresses given at start
     * @param bugs planted bugs (verification only); grant-without-quorum and
     *     release-lost-on-step-down matter here
     * @throws HoldfastServer.StartupException when the data directory's cluster id cannot be read
     */
    NodeParts(
            ServerConfig config,
            RaftServer server,
            LockStateMachine machine,
            Map<RaftPeerId, String> clientAddresses,
            Ticker ticker,
            Set<PlantedBug> bugs,
            ServerMetrics metrics)
            throws HoldfastServer.StartupException {
        String self = config.nodeId();
        this.selfId = RaftPeerId.valueOf(self);
        this.machine = machine;
        this.metrics = metrics;
        this.ticker = ticker;
        this.initialRules = config.auth() == null ? null : config.auth().rules();
        this.identity = new ClusterIdentity(config.dataDir(), self, halt::complete);
        this.leaseRefusals = new LeaseRefusals(self, ticker);
        metrics.leaseCheckRefusals(leaseRefusals);
        this.gateway =
                new RaftGateway(server, HoldfastServer.GROUP_ID, selfId, clientAddresses, this::leads, leaseRefusals);
        this.membership = new Membership(
                server, HoldfastServer.GROUP_ID, selfId, gateway::notLeader, new VersionAdmission(machine));
        this.events = new EventRouter(self);
        this.sessionEvents = new SessionEvents(self);
        this.changeWakeups = Executors.newSingleThreadExecutor(DaemonThreads.named("holdfast-watches-" + self));
        this.changeLog = new ChangeLog();
        this.proposer = new Proposer(self, this::write);
        this.audit = new AuditLog(self);
        this.duties = new LeaderDuties(self, ticker, machine, proposer::propose);
        this.inspector = new NodeInspector(gateway, machine, duties, this::isAdmin, ticker);
        this.releaseLostOnStepDown = bugs.contains(PlantedBug.RELEASE_LOST_ON_STEP_DOWN);
        this.grantWithoutQuorum =
                bugs.contains(PlantedBug.GRANT_WITHOUT_QUORUM) ? new GrantWithoutQuorum(proposer::propose) : null;
        this.service = new RaftLockService(this);
        machine.setHooks(service);
        var loaded = machine.getLastAppliedTermIndex();
        if (loaded != null && loaded.getIndex() > 0) {
            sessionEvents.loaded(loaded.getIndex()); // a snapshot loaded before the hooks were set
            changeLog.loaded(loaded.getIndex());
        }
        machine.read(ClusterIdentity::inTable).ifPresent(identity::seen);
        metrics.memberContact(gateway::memberContactMillis);
        metrics.bind(
                () -> machine.read(LockTable::stats),
                () -> machine.read(LockTable::refusals),
                duties::isActive,
                gateway::term,
                () -> {
                    var last = machine.getLastAppliedTermIndex();
                    return last == null ? -1L : last.getIndex();
                });
    }

    /** Whether this node serves as the leader now (its leader duties run). */
    private boolean leads() {
        return duties.isActive();
    }

    /** Whether this node requires access rules ({@code --auth-rules}) and none are in force yet. */
    boolean rulesPending() {
        return initialRules != null && machine.read(t -> t.accessRules() == null);
    }

    /** Whether the identity is an admin (or access control is off); nobody is while {@link #rulesPending}. */
    boolean isAdmin(String identity) {
        return !rulesPending() && machine.read(t -> t.isAdmin(identity));
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
