// Ceiling 710 lines, one idea: the whole LockService surface a node serves (14 calls) and the state machine's
// hooks; what each call needs lives in RaftGateway, EventRouter, NodeInspector and LeaderDuties.
package io.holdfast.server;

import io.holdfast.ErrorCode;
import io.holdfast.LockInfo;
import io.holdfast.Ticker;
import io.holdfast.UnavailableException;
import io.holdfast.core.ChangeLog;
import io.holdfast.core.CommandCodec;
import io.holdfast.core.PlantedBug;
import io.holdfast.internal.DaemonThreads;
import io.holdfast.model.ChangePage;
import io.holdfast.model.ChangePosition;
import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.LockService;
import io.holdfast.model.NotLeaderException;
import io.holdfast.model.RegisterValue;
import io.holdfast.model.Reply;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lock service of one Raft node: what the gRPC endpoint serves. Only the leader serves; a
 * follower answers every call with {@link NotLeaderException} naming the leader's client address
 * if it knows it.
 *
 * <p>Writes are stamped with the cluster clock, batched by the {@link Proposer}, replicated and
 * made durable by Ratis, then applied by the {@link LockStateMachine}; the reply comes from the
 * apply. Reads wait for a linearizable read barrier, then read the local table. Events emitted by
 * the apply are delivered, in order, to the subscriber of their session on this node; when this
 * node stops leading, every subscription is ended so that clients go to the new leader.
 *
 * <p>This class is the gate (who may submit what, when) and the state machine's hooks; its parts
 * have their own contracts: {@link RaftGateway} (writes, read barriers, the leader's lease, who
 * leads), {@link EventRouter} (events to subscribers, in order), {@link NodeInspector} (what
 * operators read), {@link LeaderDuties} (cluster time, session TTLs, ticks), {@link Proposer}
 * (batching) and {@link Membership} (member changes).
 */
final class RaftLockService implements LockService, LockStateMachine.Hooks {
    private static final Logger LOG = LoggerFactory.getLogger(RaftLockService.class);

    private final RaftPeerId selfId;
    private final LockStateMachine machine;
    private final RaftGateway raft;
    private final Membership membership;
    private final EventRouter events;
    private final SessionEvents sessionEvents;
    /** The recent changes of the table, for watches. */
    private final ChangeLog changeLog;

    private final java.util.concurrent.ExecutorService changeWakeups;
    private final NodeInspector inspector;
    private final Proposer proposer;
    private final LeaderDuties duties;
    private final AuditLog audit;
    /** The access rules this node requires (see {@link #requireAccessRules}); null if none. */
    private volatile io.holdfast.core.AccessRules initialRules;
    /** Null unless the bug grant-without-quorum is planted. */
    private final GrantWithoutQuorum grantWithoutQuorum;
    /** Planted bug release-lost-on-step-down (verification only). */
    private final boolean releaseLostOnStepDown;

    private final ServerMetrics metrics;
    /** The lease check's refusals, counted and logged. */
    private final LeaseRefusals leaseRefusals;

    /** The cluster's identity as this node keeps it; null in tests that run a bare service. */
    private volatile ClusterIdentity identity;

    RaftLockService(
            RaftServer server,
            RaftGroupId groupId,
            RaftPeerId selfId,
            LockStateMachine machine,
            Map<RaftPeerId, String> clientAddresses,
            Ticker ticker) {
        this(server, groupId, selfId, machine, clientAddresses, ticker, Set.of(), new ServerMetrics(selfId.toString()));
    }

    /**
     * @param bugs planted bugs (verification only); grant-without-quorum and
     *     release-lost-on-step-down matter here
     */
    RaftLockService(
            RaftServer server,
            RaftGroupId groupId,
            RaftPeerId selfId,
            LockStateMachine machine,
            Map<RaftPeerId, String> clientAddresses,
            Ticker ticker,
            Set<PlantedBug> bugs,
            ServerMetrics metrics) {
        this.metrics = metrics;
        this.selfId = selfId;
        this.machine = machine;
        this.leaseRefusals = new LeaseRefusals(selfId.toString(), ticker);
        metrics.leaseCheckRefusals(leaseRefusals);
        this.raft = new RaftGateway(server, groupId, selfId, clientAddresses, this::isLeader, leaseRefusals);
        this.membership = new Membership(server, groupId, selfId, raft::notLeader, new VersionAdmission(machine));
        this.events = new EventRouter(selfId.toString());
        this.sessionEvents = new SessionEvents(selfId.toString());
        this.changeWakeups = java.util.concurrent.Executors.newSingleThreadExecutor(
                DaemonThreads.named("holdfast-watches-" + selfId));
        this.changeLog = new ChangeLog();
        this.proposer = new Proposer(selfId.toString(), this::write);
        this.audit = new AuditLog(selfId.toString());
        this.duties = new LeaderDuties(selfId.toString(), ticker, machine, proposer::propose);
        this.inspector = new NodeInspector(raft, machine, duties, this::isAdmin);
        this.releaseLostOnStepDown = bugs.contains(PlantedBug.RELEASE_LOST_ON_STEP_DOWN);
        this.grantWithoutQuorum =
                bugs.contains(PlantedBug.GRANT_WITHOUT_QUORUM) ? new GrantWithoutQuorum(proposer::propose) : null;
        machine.setHooks(this);
        var loaded = machine.getLastAppliedTermIndex();
        if (loaded != null && loaded.getIndex() > 0) {
            sessionEvents.loaded(loaded.getIndex()); // a snapshot loaded before the hooks were set
            changeLog.loaded(loaded.getIndex());
        }
        metrics.bind(
                () -> machine.read(io.holdfast.core.LockTable::stats),
                this::refusals,
                duties::isActive,
                raft::term,
                () -> {
                    var last = machine.getLastAppliedTermIndex();
                    return last == null ? -1L : last.getIndex();
                });
    }

    // ------------------------------------------------------------------ LockService

    @Override
    public CompletableFuture<Reply> submit(Command command) {
        return submit(command, null);
    }

    /**
     * Proposes the command with the caller's identity: the table checks it at apply, on every
     * replica, against the access rules in force at that point of the log.
     */
    @Override
    public CompletableFuture<Reply> submit(Command command, String identity) {
        long start = System.nanoTime();
        CompletableFuture<Reply> reply = submitTimed(command, identity);
        reply.whenComplete((r, e) -> metrics.request(command, r != null ? r : e, System.nanoTime() - start));
        return reply;
    }

    private CompletableFuture<Reply> submitTimed(Command command, String identity) {
        if (!duties.isActive()) {
            return CompletableFuture.failedFuture(raft.notLeader());
        }
        UnavailableException pending = rulesPending();
        if (pending != null) {
            return CompletableFuture.failedFuture(pending);
        }
        if (command instanceof Command.SetAccessRules set && set.text() == null && initialRules != null) {
            return CompletableFuture.failedFuture(new io.holdfast.InvalidArgumentException(
                    "this node requires access rules (--auth-rules): restart the nodes without it to turn access"
                            + " control off"));
        }
        if (io.holdfast.core.CommandKinds.membersOnly(command)) {
            return CompletableFuture.failedFuture(new io.holdfast.InvalidArgumentException(
                    command.getClass().getSimpleName() + " is proposed by the members only"));
        }
        command = machine.loggable(command); // a fenced register write as the cluster's version can log it
        int type = CommandCodec.typeOf(command);
        if (!machine.vocabulary.allInVersionOne() || !machine.vocabulary.knows(type)) {
            String tooNew = machine.refusal(type);
            if (tooNew != null) {
                return CompletableFuture.failedFuture(new io.holdfast.UnsupportedFeatureException(
                        "the cluster cannot take this " + command.getClass().getSimpleName() + " yet: it " + tooNew));
            }
        }
        if (command instanceof Command.ClientCommand cc
                && mayUseSession(identity, cc.invocation().sessionId())) {
            duties.touch(cc.invocation().sessionId()); // any request is a heartbeat
        }
        Command.Envelope stamped = new Command.Envelope(duties.clusterNow(), identity, command);
        if (identity != null) {
            return proposer.propose(stamped);
        }
        if (grantWithoutQuorum != null) {
            // PLANTED BUG (verification only): grant-without-quorum: a free-looking lock is
            // granted from the local table before the log commits the acquire.
            return grantWithoutQuorum.submit(stamped, machine::read);
        }
        if (releaseLostOnStepDown && command instanceof Command.Release) {
            // PLANTED BUG (verification only): release-lost-on-step-down: a release that could not
            // be replicated is answered as done.
            return proposer.propose(stamped).exceptionally(e -> Reply.Ok.INSTANCE);
        }
        return proposer.propose(stamped);
    }

    /**
     * A heartbeat is acknowledged only while this leader holds its lease: a majority of the voters
     * (itself counted) answered it within {@link RaftGateway#leaseMillis()}, less than the shortest
     * election timeout, so that no other leader can have been elected since. A refusal is counted
     * and logged ({@link LeaseRefusals}).
     *
     * <p>Why: a client counts its leases valid for a TTL from the sending of its last acknowledged
     * heartbeat, and a new leader gives every session a fresh TTL from its own start. A leader cut
     * off from the others (or paused, then resumed) still takes itself for the leader until it
     * notices, up to an election timeout later, while the others may have elected a new leader
     * already. Heartbeats it acknowledged on its own say in that time would let its clients count
     * on a TTL that ends after the new leader has expired them and handed their locks to others.
     * (A Ratis read barrier does not help: it answers at once when nothing was committed since
     * the last round that a majority acknowledged, which a deposed leader's last round was.)
     */
    @Override
    public CompletableFuture<Reply> keepAlive(String sessionId) {
        if (!duties.isActive()) {
            return CompletableFuture.failedFuture(raft.notLeader());
        }
        if (!machine.read(table -> table.hasSession(sessionId))) {
            return CompletableFuture.completedFuture(
                    Reply.Failed.of(ErrorCode.SESSION_EXPIRED, "session " + sessionId + " is unknown or expired"));
        }
        Optional<UnavailableException> refused = raft.leaseRefusal(LeaseRefusals.Refused.HEARTBEAT);
        if (refused.isPresent()) {
            return CompletableFuture.failedFuture(refused.get());
        }
        duties.touch(sessionId);
        return CompletableFuture.completedFuture(Reply.Ok.INSTANCE);
    }

    /** Whether this node leads and holds its leader's lease ({@link RaftGateway#holdsLease}). */
    boolean holdsLease() {
        return raft.holdsLease();
    }

    /** @throws NotLeaderException if this node does not lead: subscribe at the leader */
    @Override
    public void subscribe(String sessionId, Listener listener) {
        if (!duties.isActive()) {
            throw raft.notLeader();
        }
        events.subscribe(sessionId, listener);
    }

    @Override
    public boolean mayRead(String identity, String name) {
        if (rulesPending() != null) {
            return false;
        }
        return machine.read(t -> t.mayRead(identity, name));
    }

    @Override
    public boolean mayUseSession(String identity, String sessionId) {
        return machine.read(t -> t.sessionIdentity(sessionId)
                .map(owner -> owner.equals(identity == null ? "" : identity))
                .orElse(true));
    }

    @Override
    public void unsubscribe(String sessionId) {
        events.unsubscribe(sessionId);
    }

    @Override
    public CompletableFuture<Optional<LockInfo>> describe(String name) {
        return raft.afterBarrier(() -> {
            long now = duties.clusterNow(); // outside the machine's lock: duties lock before machine lock
            return machine.read(t -> t.describe(name, now));
        });
    }

    @Override
    public CompletableFuture<List<LockInfo>> list(String prefix, int limit) {
        return raft.afterBarrier(() -> {
            long now = duties.clusterNow();
            return machine.read(t -> t.list(prefix, limit, now));
        });
    }

    @Override
    public CompletableFuture<Boolean> isCurrentHolder(String name, long token) {
        return raft.afterBarrier(() -> machine.read(t -> t.isCurrentHolder(name, token)));
    }

    @Override
    public CompletableFuture<Optional<RegisterValue>> readRegister(String key) {
        return raft.afterBarrier(() -> machine.read(t -> t.register(key)));
    }

    @Override
    public void close() {
        duties.close();
        proposer.close();
        endSubscriptions("the server is shutting down");
        events.close();
        sessionEvents.close();
        changeWakeups.shutdown();
    }

    // ------------------------------------------------------------------ state machine hooks

    @Override
    public void applied(
            long index,
            List<Command.Envelope> commands,
            List<Reply> replies,
            List<List<Event>> events,
            List<io.holdfast.WatchEvent> changes,
            long tableNow,
            long nextDeadline) {
        metrics.applied(commands, replies, events);
        ClusterIdentity id = identity;
        if (id != null) {
            id.applied(commands);
        }
        changeLog.append(index, changes);
        inspector.tableClock(tableNow);
        List<String> closed = List.of();
        for (int i = 0; i < commands.size() && i < replies.size(); i++) {
            if (commands.get(i) == null) {
                continue;
            }
            audit.applied(commands.get(i), replies.get(i), events.get(i));
            Command c = commands.get(i).command();
            if (c instanceof Command.OpenSession open && replies.get(i) instanceof Reply.Ok) {
                duties.opened(open.sessionId(), open.ttlMillis());
                sessionEvents.opened(open.sessionId());
            } else if (c instanceof Command.CloseSession close && replies.get(i) instanceof Reply.Ok) {
                duties.ended(close.invocation().sessionId());
                closed = closed.isEmpty() ? new java.util.ArrayList<>(1) : closed;
                closed.add(close.invocation().sessionId());
            }
        }
        sessionEvents.append(index, events, closed);
        for (List<Event> caused : events) {
            for (Event e : caused) {
                if (e instanceof Event.SessionExpired expired) {
                    duties.ended(expired.sessionId());
                    logExpiry(expired.sessionId(), caused);
                }
            }
            this.events.deliver(caused);
        }
        duties.applied(nextDeadline);
    }

    /**
     * Access control is required on this node: nothing is served until access rules are in force,
     * and a leader that finds none proposes {@code initial}.
     */
    void requireAccessRules(io.holdfast.core.AccessRules initial) {
        this.initialRules = initial;
    }

    /** Refuses while this node requires access rules and none are in force yet; else null. */
    private UnavailableException rulesPending() {
        if (initialRules == null || machine.read(t -> t.accessRules() != null)) {
            return null;
        }
        return new UnavailableException("the access rules are not in force yet (a new leader proposes them); retry");
    }

    @Override
    public void tableLoaded(long index) {
        ClusterIdentity id = identity;
        if (id != null) {
            machine.read(ClusterIdentity::inTable).ifPresent(id::seen);
        }
        sessionEvents.loaded(index);
        changeLog.loaded(index);
    }

    /**
     * Watches: answered by any member from the changes it applied (a follower's may lag the
     * leader's by the entries it has not applied yet; positions are the same everywhere).
     */
    @Override
    public CompletableFuture<ChangePage> changes(
            String identity, io.holdfast.WatchTarget target, ChangePosition from, long waitMillis) {
        return io.holdfast.node.ChangePolls.poll(changeLog, target, from, waitMillis, changeWakeups);
    }

    /** The recent events of every session, for clients that read them over HTTP. */
    SessionEvents sessionEvents() {
        return sessionEvents;
    }

    @Override
    public void leaderReady() {
        duties.start();
        ClusterIdentity id = identity;
        if (id != null) {
            id.leaderReady(machine.read(ClusterIdentity::inTable), proposer::propose);
        }
        io.holdfast.core.AccessRules initial = initialRules;
        if (initial != null && machine.read(t -> t.accessRules() == null)) {
            LOG.info("No access rules in force: proposing the {} this node started with", initial);
            proposer.propose(Command.Envelope.of(duties.clusterNow(), new Command.SetAccessRules(initial.text())))
                    .whenComplete((reply, error) -> {
                        if (error != null || reply instanceof Reply.Failed) {
                            LOG.warn("The initial access rules were not applied: {}", error != null ? error : reply);
                        }
                    });
        }
    }

    /** One line per expired session, with the grants it lost (they are in the same event list). */
    private void logExpiry(String sessionId, List<Event> caused) {
        StringBuilder lost = new StringBuilder();
        for (Event e : caused) {
            if (e instanceof Event.Lost l && l.sessionId().equals(sessionId)) {
                lost.append(lost.length() == 0 ? "" : ", ")
                        .append(l.name())
                        .append(" (token ")
                        .append(l.token())
                        .append(')');
            }
        }
        LOG.atInfo()
                .addKeyValue("event", "session-expired")
                .addKeyValue("node", selfId)
                .addKeyValue("session", sessionId)
                .log(
                        "Session {} expired (no heartbeat within its TTL); {}",
                        sessionId,
                        lost.length() == 0 ? "it held nothing" : "it lost " + lost);
    }

    @Override
    public void leaderChanged(String leader) {
        metrics.leaderChanged();
        events.runInOrder(() -> LOG.atInfo()
                .addKeyValue("event", "leader-changed")
                .addKeyValue("node", selfId)
                .addKeyValue("leader", leader)
                .addKeyValue("term", raft.term())
                .log(
                        leader == null
                                ? "Node {} knows no leader (term {})"
                                : selfId.toString().equals(leader)
                                        ? "Node {} is now the leader (term {})"
                                        : "Node {}" + " follows leader " + leader + " (term {})",
                        selfId,
                        raft.term()));
    }

    /** The state machine, for tests in this package. */
    LockStateMachine machine() {
        return machine;
    }

    /** Completes with the reason when this replica stopped applying the log ({@link #halted}). */
    final CompletableFuture<String> halt = new CompletableFuture<>();

    /** Completes with the line saying so when this node was removed from the members ({@code DivisionWatch}). */
    final CompletableFuture<String> removal = new CompletableFuture<>();

    @Override
    public void halted(String reason) {
        halt.complete(reason);
    }

    @Override
    public void snapshotTaken(long index, long bytes) {
        metrics.snapshot(bytes);
        LOG.atInfo()
                .addKeyValue("event", "snapshot")
                .addKeyValue("node", selfId)
                .addKeyValue("index", index)
                .addKeyValue("bytes", bytes)
                .log("Node {} wrote a snapshot at log index {} ({} bytes)", selfId, index, bytes);
    }

    long term() {
        return raft.term();
    }

    /** Reads for operators ({@link NodeInspector#inspect}). */
    <T> CompletableFuture<NodeInspector.Inspection<T>> inspect(
            java.util.function.BiFunction<io.holdfast.core.LockTable, Long, T> read) {
        return inspector.inspect(read);
    }

    /**
     * Sessions through the client port: only the leader answers (a follower sends the client to
     * it), so that the page is linearizable and has every session's TTL left.
     */
    @Override
    public CompletableFuture<io.holdfast.model.SessionPage> sessions(String identity, String after, int limit) {
        if (!duties.isActive()) {
            return CompletableFuture.failedFuture(raft.notLeader());
        }
        return inspector.sessions(identity, after, limit);
    }

    /** Sessions for the dashboard: from this replica when it does not lead (see {@link #inspect}). */
    CompletableFuture<io.holdfast.model.SessionPage> inspectSessions(String identity, String after, int limit) {
        return inspector.sessions(identity, after, limit);
    }

    /** The members as this node sees them ({@link NodeInspector#cluster}). */
    @Override
    public CompletableFuture<io.holdfast.model.ClusterInfo> cluster() {
        return inspector.cluster();
    }

    /**
     * Changes the members through Ratis ({@link Membership}); an admin's call only, when access
     * control is on. Answers with the members as this node (the leader) sees them afterwards.
     */
    @Override
    public CompletableFuture<io.holdfast.model.ClusterInfo> changeMembers(
            String identity, io.holdfast.model.MembershipChange change) {
        if (change == null) {
            return CompletableFuture.failedFuture(new io.holdfast.InvalidArgumentException("no change given"));
        }
        if (!duties.isActive()) {
            return CompletableFuture.failedFuture(raft.notLeader());
        }
        if (!isAdmin(identity)) {
            return CompletableFuture.failedFuture(new io.holdfast.PermissionDeniedException(
                    (identity == null ? "an unauthenticated client" : "identity " + identity)
                            + " may not change the members: that needs admin"));
        }
        return membership
                .change(change)
                .handle((done, error) -> {
                    audit.membersChanged(
                            duties.clusterNow(),
                            identity,
                            change.describe(),
                            error == null ? "ok" : HoldfastServer.rootMessage(error));
                    if (error != null) {
                        throw error instanceof java.util.concurrent.CompletionException c
                                ? c
                                : new java.util.concurrent.CompletionException(error);
                    }
                    return done;
                })
                .thenCompose(done -> cluster());
    }

    /**
     * A consistent copy of the table for {@code holdfast backup}: on the leader, after a read
     * barrier, so it holds every write acknowledged before the call. Admin only when access control
     * is on.
     */
    @Override
    public CompletableFuture<io.holdfast.model.TableCopy> backup(String identity) {
        if (!isAdmin(identity)) {
            return CompletableFuture.failedFuture(new io.holdfast.PermissionDeniedException(
                    (identity == null ? "an unauthenticated client" : "identity " + identity)
                            + " may not take a backup: that needs admin"));
        }
        return raft.afterBarrier(machine::backup);
    }

    /**
     * A consistent copy of the table written to {@code file}, for a streamed or scheduled backup:
     * on the leader, after a read barrier, so it holds every write acknowledged before the call;
     * the copy is made on the calling thread, not on Ratis's. Who may ask is the caller's check.
     *
     * @throws java.util.concurrent.ExecutionException as the barrier fails (not the leader, no quorum)
     * @throws java.util.concurrent.TimeoutException when the barrier takes longer than {@code timeout}
     */
    BackupFile.Header backupTo(java.nio.file.Path file, long nowMillis, java.time.Duration timeout)
            throws IOException, InterruptedException, java.util.concurrent.ExecutionException,
                    java.util.concurrent.TimeoutException {
        raft.afterBarrier(() -> Boolean.TRUE).get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        return machine.backupTo(file, nowMillis);
    }

    /**
     * Whether {@code token} is a current grant of {@code name} in this replica's table, without a
     * read barrier: for an answer made right after this replica applied the grant.
     */
    boolean isCurrentHolderHere(String name, long token) {
        return machine.read(t -> t.isCurrentHolder(name, token));
    }

    /**
     * Keeps the cluster's identity from now on: records the id the table holds (a snapshot loaded
     * before this call included), proposes one when this node leads a table without one.
     */
    void keepIdentity(ClusterIdentity identity) {
        this.identity = identity;
        machine.read(ClusterIdentity::inTable).ifPresent(identity::seen);
        if (duties.isActive()) {
            identity.leaderReady(machine.read(ClusterIdentity::inTable), proposer::propose);
        }
    }

    /** The cluster id this node knows, or null while it knows none. */
    java.util.UUID clusterId() {
        ClusterIdentity id = identity;
        return id == null ? null : id.current();
    }

    /** A refusal that names the leader, for a call only the leader answers. */
    io.holdfast.model.NotLeaderException notLeaderException(String why) {
        return raft.notLeader(why);
    }

    /** What the session holds and waits for in this replica's table, and the log index it is at. */
    java.util.Optional<io.holdfast.core.SessionState> sessionStateHere(String sessionId) {
        return machine.read(t -> t.sessionState(sessionId));
    }

    /** Whether this replica knows the session. */
    boolean hasSession(String sessionId) {
        return machine.read(t -> t.hasSession(sessionId));
    }

    /** Milliseconds of cluster time, as this node's clock has it. */
    long clusterNowMillis() {
        return duties.clusterNow();
    }

    /** Whether the identity is an admin (or access control is off). */
    boolean isAdmin(String identity) {
        return rulesPending() == null && machine.read(t -> t.isAdmin(identity));
    }

    @Override
    public void notLeader() {
        duties.stop();
        endSubscriptions("this node is no longer the leader");
    }

    private void endSubscriptions(String why) {
        events.endAll(() -> raft.notLeader(why));
        sessionEvents.failOutcomes(() -> raft.notLeader(why));
    }

    // ------------------------------------------------------------------ Ratis plumbing

    String tableDigest() {
        return machine.digest();
    }

    byte[] tableBytes() {
        return machine.read(t -> {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            try {
                t.writeSnapshot(out);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return out.toByteArray();
        });
    }

    io.holdfast.core.AccessRules accessRules() {
        return machine.read(t -> t.accessRules());
    }

    /** The audit trail this replica has applied (latest entries). */
    List<AuditLog.Entry> audit() {
        return audit.entries();
    }

    /** The lease check's refusals on this node since it started, by what was refused. */
    Map<String, Long> leaseCheckRefusals() {
        return leaseRefusals.counts();
    }

    /** Refusals by quota and of permission, on this replica since it started. */
    Map<String, Long> refusals() {
        return machine.read(t -> t.refusals());
    }

    boolean isLeader() {
        return duties.isActive();
    }

    /** Writes one entry through Raft; completes with the entry's reply bytes. */
    private CompletableFuture<byte[]> write(byte[] entry) {
        long start = System.nanoTime();
        return raft.write(entry).thenApply(reply -> {
            metrics.raftCommit(System.nanoTime() - start);
            return reply.getMessage().getContent().toByteArray();
        });
    }
}
