// Ceiling 500 lines, one idea: the whole LockService surface a node serves (16 calls) and the state machine's
// hooks; the parts the calls need (RaftGateway, LeaderReads, EventRouter, NodeInspector, ...) come from NodeParts.
package io.holdfast.server;

import io.holdfast.ErrorCode;
import io.holdfast.LockInfo;
import io.holdfast.UnavailableException;
import io.holdfast.core.ChangeLog;
import io.holdfast.core.CommandCodec;
import io.holdfast.model.ChangePage;
import io.holdfast.model.ChangePosition;
import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.LockService;
import io.holdfast.model.NotLeaderException;
import io.holdfast.model.RegisterValue;
import io.holdfast.model.Reply;
import io.holdfast.protocol.Spans;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.protocol.RaftPeerId;
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
 * leads), {@link LeaderReads} (what clients read of the table), {@link EventRouter} (events to
 * subscribers, in order), {@link NodeInspector} (what operators read), {@link LeaderDuties} (cluster time, session TTLs, ticks), {@link Proposer}
 * (batching) and {@link Membership} (member changes). {@link NodeParts} builds them and hands them
 * in; the node's other users take them from there.
 */
final class RaftLockService implements LockService, StateMachineHooks {
    private static final Logger LOG = LoggerFactory.getLogger(RaftLockService.class);

    private final RaftPeerId selfId;
    private final LockStateMachine machine;
    private final RaftGateway raft;
    private final Membership membership;
    private final EventRouter events;
    private final SessionEvents sessionEvents;
    private final ChangeLog changeLog;
    private final java.util.concurrent.ExecutorService changeWakeups;
    private final NodeInspector inspector;
    private final LeaderReads reads;
    private final Proposer proposer;
    private final LeaderDuties duties;
    private final AuditLog audit;
    private final ClusterIdentity identity;
    /** The access rules this node requires (see {@link #rulesPending}); null if none. */
    private final io.holdfast.core.AccessRules initialRules;
    /** Null unless the bug grant-without-quorum is planted. */
    private final GrantWithoutQuorum grantWithoutQuorum;
    /** Planted bug release-lost-on-step-down (verification only). */
    private final boolean releaseLostOnStepDown;

    private final ServerMetrics metrics;
    /** The lease check's refusals, counted and logged. */
    private final LeaseRefusals leaseRefusals;
    /** Completed when this replica stops applying the log ({@link #halted}). */
    private final CompletableFuture<String> halt;
    /** Who is an admin, and whether the rules this node requires are in force ({@link NodeParts#isAdmin}). */
    private final NodeParts parts;

    private final io.holdfast.endpoint.ServerTracing tracing = io.holdfast.endpoint.ServerTracing.global();

    /** Serves with the parts {@link NodeParts} built; closing the service closes them. */
    RaftLockService(NodeParts parts) {
        this.selfId = parts.selfId;
        this.machine = parts.machine;
        this.raft = parts.gateway;
        this.membership = parts.membership;
        this.events = parts.events;
        this.sessionEvents = parts.sessionEvents;
        this.changeLog = parts.changeLog;
        this.changeWakeups = parts.changeWakeups;
        this.inspector = parts.inspector;
        this.reads = new LeaderReads(parts.gateway, parts.duties, parts.machine);
        this.proposer = parts.proposer;
        this.duties = parts.duties;
        this.audit = parts.audit;
        this.identity = parts.identity;
        this.initialRules = parts.initialRules;
        this.grantWithoutQuorum = parts.grantWithoutQuorum;
        this.releaseLostOnStepDown = parts.releaseLostOnStepDown;
        this.metrics = parts.metrics;
        this.leaseRefusals = parts.leaseRefusals;
        this.halt = parts.halt;
        this.parts = parts;
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
        long start = parts.ticker.nanos();
        // Inside the request's span, if it records: from the proposal to the table's answer.
        Span commit = tracing.startInside("holdfast.commit");
        CompletableFuture<Reply> reply;
        try (Scope ignored = Spans.current(commit)) {
            reply = Spans.endWhenDone(commit, submitTimed(command, identity));
        }
        reply.whenComplete((r, e) -> metrics.request(command, r != null ? r : e, parts.ticker.nanos() - start));
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
     *
     * <p>Nor is a heartbeat acknowledged while the session's expiry is in flight (proposed, not
     * yet applied): the expiry does not look at heartbeats, and once applied it hands the
     * session's locks on while the client counts a fresh TTL from the acknowledged heartbeat. The
     * client is told to ask again; the expiry is final on this leader (also when its proposal
     * failed: it may still be applied), so the next answer is SESSION_EXPIRED, or, from a new
     * leader, which gives every session a fresh TTL, an acknowledgement. (Found by {@code holdfast
     * verify}: keys scenario, seed 2414307957.)
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
        switch (duties.touch(sessionId)) {
            case ACKED:
                return CompletableFuture.completedFuture(Reply.Ok.INSTANCE);
            case EXPIRING:
                return CompletableFuture.failedFuture(new UnavailableException(
                        "session " + sessionId + " is being expired: its heartbeats stopped for its TTL"));
            default:
                if (!machine.read(table -> table.hasSession(sessionId))) {
                    return CompletableFuture.completedFuture(Reply.Failed.of(
                            ErrorCode.SESSION_EXPIRED, "session " + sessionId + " is unknown or expired"));
                }
                return CompletableFuture.failedFuture(
                        new UnavailableException("session " + sessionId + " is not tracked by this leader yet"));
        }
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
        return reads.describe(name);
    }

    @Override
    public CompletableFuture<List<LockInfo>> list(String prefix, int limit) {
        return reads.list(prefix, limit);
    }

    @Override
    public CompletableFuture<Boolean> isCurrentHolder(String name, long token) {
        return reads.isCurrentHolder(name, token);
    }

    @Override
    public CompletableFuture<Optional<RegisterValue>> readRegister(String key) {
        return reads.readRegister(key);
    }

    /** Only the keys {@code identity} may read ({@link #mayRead}). */
    @Override
    public CompletableFuture<io.holdfast.model.KeyPage> keys(String identity, String prefix, String after, int limit) {
        return reads.keys(prefix, after, limit, key -> mayRead(identity, key));
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
    public void applied(Applied entry) {
        long index = entry.index();
        List<Command.Envelope> commands = entry.commands();
        List<Reply> replies = entry.replies();
        List<List<Event>> events = entry.events();
        metrics.applied(commands, replies, events);
        identity.applied(commands);
        changeLog.append(index, entry.changes());
        inspector.tableClock(entry.tableNow());
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
        duties.applied(entry.nextDeadline());
    }

    /** Refuses while this node requires access rules and none are in force yet; else null. */
    private UnavailableException rulesPending() {
        if (!parts.rulesPending()) {
            return null;
        }
        return new UnavailableException("the access rules are not in force yet (a new leader proposes them); retry");
    }

    @Override
    public void tableLoaded(long index) {
        machine.read(ClusterIdentity::inTable).ifPresent(identity::seen);
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

    @Override
    public void leaderReady() {
        duties.start();
        identity.leaderReady(machine.read(ClusterIdentity::inTable), proposer::propose);
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
        if (!parts.isAdmin(identity)) {
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

    @Override
    public void notLeader() {
        duties.stop();
        endSubscriptions("this node is no longer the leader");
    }

    private void endSubscriptions(String why) {
        events.endAll(() -> raft.notLeader(why));
        sessionEvents.failOutcomes(() -> raft.notLeader(why));
    }
}
