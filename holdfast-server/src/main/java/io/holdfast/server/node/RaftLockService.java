package io.holdfast.server.node;

import io.holdfast.LockInfo;
import io.holdfast.UnavailableException;
import io.holdfast.core.CommandCodec;
import io.holdfast.core.LockTable;
import io.holdfast.core.PlantedBug;
import io.holdfast.endpoint.ServerTracing;
import io.holdfast.internal.Causes;
import io.holdfast.model.ChangePage;
import io.holdfast.model.ChangePosition;
import io.holdfast.model.Command;
import io.holdfast.model.LockService;
import io.holdfast.model.NotLeaderException;
import io.holdfast.model.RegisterValue;
import io.holdfast.model.Reply;
import io.holdfast.protocol.SpanName;
import io.holdfast.protocol.Spans;
import io.holdfast.server.leadership.HeartbeatVerdicts;
import io.holdfast.server.leadership.LeaderDuties;
import io.holdfast.server.leadership.LeaderReads;
import io.holdfast.server.leadership.RaftGateway;
import io.holdfast.server.membership.Membership;
import io.holdfast.server.raft.LockStateMachine;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The lock service of one Raft node: what the gRPC endpoint serves. Every member serves a
 * client's session (ADR 0003): the leader itself, and a member that does not lead through the
 * leader. What stays the leader's alone (membership changes, the sessions page, backups) is
 * answered elsewhere with {@link NotLeaderException} naming the leader's client address if known.
 *
 * <p>Writes are stamped with the cluster clock, batched by the {@link Proposer}, replicated and
 * made durable by Ratis, then applied by the {@link LockStateMachine}; the reply comes from the
 * apply. A member that does not lead forwards them to the leader's gate ({@link WriteForwarding})
 * and answers once it has applied the entry itself. Heartbeats at such a member are relayed to the
 * leader ({@link SessionRelay}). Reads are linearizable at every member ({@link LeaderReads}).
 * Events emitted by the apply are delivered, in order, to the subscriber of their session on this
 * node, whether it leads or not: a change of leader ends no subscription.
 *
 * <p>This class is the gate (who may submit what, when); what the node does with each applied entry
 * is {@link NodeHooks}'. The parts it serves with have their own contracts and come from {@link
 * NodeParts}, which it holds and asks, never copies: {@link RaftGateway} (writes, read barriers, the leader's lease, who
 * leads), {@link LeaderReads} (what clients read of the table), {@link EventRouter} (events to
 * subscribers, in order), {@link NodeInspector} (what operators read), {@link LeaderDuties} (cluster time, session TTLs, ticks), {@link Proposer}
 * (batching) and {@link Membership} (member changes).
 */
public final class RaftLockService implements LockService {
    private final NodeParts parts;
    private final HeartbeatReplies heartbeatReplies;
    /** Null unless the bug grant-without-quorum is planted. */
    private final GrantWithoutQuorum grantWithoutQuorum;
    /** Planted bug release-lost-on-step-down (verification only). */
    private final boolean releaseLostOnStepDown;

    private final ServerTracing tracing = ServerTracing.global();
    /** Serves with the parts {@link NodeParts} built; closing the service closes them. */
    RaftLockService(NodeParts parts) {
        this.parts = parts;
        this.heartbeatReplies = new HeartbeatReplies(parts);
        this.grantWithoutQuorum = parts.planted(PlantedBug.GRANT_WITHOUT_QUORUM)
                ? new GrantWithoutQuorum(parts.proposer()::propose)
                : null;
        this.releaseLostOnStepDown = parts.planted(PlantedBug.RELEASE_LOST_ON_STEP_DOWN);
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
        long start = parts.ticker().nanos();
        // Inside the request's span, if it records: from the proposal to the table's answer.
        Span commit = tracing.startInside(SpanName.COMMIT);
        CompletableFuture<Reply> reply;
        try (Scope ignored = Spans.current(commit)) {
            reply = Spans.endWhenDone(commit, submitTimed(command, identity));
        }
        reply.whenComplete((r, e) -> parts.metrics()
                .request(command, r != null ? r : e, parts.ticker().nanos() - start));
        return reply;
    }

    private CompletableFuture<Reply> submitTimed(Command command, String identity) {
        if (!parts.duties().isActive()) {
            // A member that does not lead forwards the write to the leader's gate (ADR 0003).
            return parts.forwarding().forward(command, identity);
        }
        UnavailableException pending = rulesPending();
        if (pending != null) {
            return CompletableFuture.failedFuture(pending);
        }
        if (command instanceof Command.SetAccessRules set && set.text() == null && parts.initialRules() != null) {
            return CompletableFuture.failedFuture(new io.holdfast.InvalidArgumentException(
                    "this node requires access rules (--auth-rules): restart the nodes without it to turn access"
                            + " control off"));
        }
        if (io.holdfast.core.CommandKinds.membersOnly(command)) {
            return CompletableFuture.failedFuture(new io.holdfast.InvalidArgumentException(
                    command.getClass().getSimpleName() + " is proposed by the members only"));
        }
        command =
                parts.clusterVersion().loggable(command); // a fenced register write as the cluster's version can log it
        int type = CommandCodec.typeOf(command);
        if (!parts.machine().vocabulary().allInVersionOne()
                || !parts.machine().vocabulary().knows(type)) {
            String tooNew = parts.clusterVersion().refusal(type);
            if (tooNew != null) {
                return CompletableFuture.failedFuture(new io.holdfast.UnsupportedFeatureException(
                        "the cluster cannot take this " + command.getClass().getSimpleName() + " yet: it " + tooNew));
            }
        }
        if (command instanceof Command.ClientCommand cc
                && mayUseSession(identity, cc.invocation().sessionId())) {
            parts.duties().touch(cc.invocation().sessionId()); // any request is a heartbeat
        }
        Command.Envelope stamped = new Command.Envelope(parts.duties().clusterNow(), identity, command);
        if (!(command instanceof Command.OpenSession)) {
            return propose(stamped, identity, command);
        }
        io.holdfast.QuotaExceededException flood = parts.sessionOpens().enter();
        if (flood != null) {
            return CompletableFuture.failedFuture(flood);
        }
        CompletableFuture<Reply> opened;
        try {
            opened = propose(stamped, identity, command);
        } catch (RuntimeException e) {
            parts.sessionOpens().leave();
            throw e;
        }
        opened.whenComplete((r, e) -> parts.sessionOpens().leave());
        return opened;
    }

    private CompletableFuture<Reply> propose(Command.Envelope stamped, String identity, Command command) {
        if (identity != null) {
            return parts.proposer().propose(stamped);
        }
        if (grantWithoutQuorum != null) {
            // PLANTED BUG (verification only): grant-without-quorum: a free-looking lock is
            // granted from the local table before the log commits the acquire.
            return grantWithoutQuorum.submit(stamped, parts.machine()::read);
        }
        if (releaseLostOnStepDown && command instanceof Command.Release) {
            // PLANTED BUG (verification only): release-lost-on-step-down: a release that could not
            // be replicated is answered as done.
            return parts.proposer().propose(stamped).exceptionally(e -> Reply.Ok.INSTANCE);
        }
        return parts.proposer().propose(stamped);
    }

    /**
     * A heartbeat: relayed to the leader at a member that does not lead, touched at the leader
     * under its lease check ({@link HeartbeatReplies}).
     */
    @Override
    public CompletableFuture<Reply> keepAlive(String sessionId) {
        return heartbeatReplies.keepAlive(sessionId);
    }

    /** Heartbeats for several sessions, by the same rules ({@link HeartbeatReplies#keepAliveMany}). */
    @Override
    public CompletableFuture<List<Reply>> keepAliveMany(List<String> sessionIds) {
        return heartbeatReplies.keepAliveMany(sessionIds);
    }

    /**
     * The session's events as this member applies them, at any member (ADR 0003): every replica
     * applies the same log and emits the same events; a grant made by the leader reaches a
     * subscriber at another member when that member applies it. A change of leader does not end
     * the subscription.
     */
    @Override
    public void subscribe(String sessionId, Listener listener) {
        parts.events().subscribe(sessionId, listener);
    }

    @Override
    public boolean mayRead(String identity, String name) {
        if (rulesPending() != null) {
            return false;
        }
        return parts.machine().read(t -> t.mayRead(identity, name));
    }

    @Override
    public boolean mayUseSession(String identity, String sessionId) {
        return parts.machine().read(t -> mayUse(t, identity, sessionId));
    }

    /**
     * {@link #mayUseSession} for each, {@value HeartbeatVerdicts#SLICE} sessions to a hold of the
     * table's lock: a connection's call of 1,000 heartbeats took that lock 1,000 times, each a turn
     * the apply path could wait for.
     */
    @Override
    public boolean[] mayUseSessions(String identity, List<String> sessionIds) {
        boolean[] out = new boolean[sessionIds.size()];
        for (int from = 0; from < out.length; from += HeartbeatVerdicts.SLICE) {
            int first = from;
            int end = Math.min(out.length, from + HeartbeatVerdicts.SLICE);
            parts.machine().read(t -> {
                for (int i = first; i < end; i++) {
                    out[i] = mayUse(t, identity, sessionIds.get(i));
                }
                return null;
            });
        }
        return out;
    }

    /** False if the session is known and another identity's (no identity is the empty one). */
    private static boolean mayUse(LockTable t, String identity, String sessionId) {
        return t.sessionIdentity(sessionId)
                .map(owner -> owner.equals(identity == null ? "" : identity))
                .orElse(true);
    }

    @Override
    public void unsubscribe(String sessionId) {
        parts.events().unsubscribe(sessionId);
    }

    @Override
    public CompletableFuture<Optional<LockInfo>> describe(String name) {
        return parts.reads().describe(name);
    }

    @Override
    public CompletableFuture<List<LockInfo>> list(String prefix, int limit) {
        return parts.reads().list(prefix, limit);
    }

    @Override
    public CompletableFuture<Boolean> isCurrentHolder(String name, long token) {
        return parts.reads().isCurrentHolder(name, token);
    }

    /** Every check in one linearizable read ({@link io.holdfast.server.leadership.LeaderReads#isCurrentHolderMany}). */
    @Override
    public CompletableFuture<List<Boolean>> isCurrentHolderMany(List<io.holdfast.model.FenceCheck> checks) {
        return parts.reads().isCurrentHolderMany(checks);
    }

    @Override
    public CompletableFuture<Optional<RegisterValue>> readRegister(String key) {
        return parts.reads().readRegister(key);
    }

    /** Only the keys {@code identity} may read ({@link #mayRead}). */
    @Override
    public CompletableFuture<io.holdfast.model.KeyPage> keys(String identity, String prefix, String after, int limit) {
        return parts.reads().keys(prefix, after, limit, key -> mayRead(identity, key));
    }

    /** Closes the node's parts ({@link NodeParts#close}). */
    @Override
    public void close() {
        parts.close();
    }

    /** Refuses while this node requires access rules and none are in force yet; else null. */
    private UnavailableException rulesPending() {
        if (!parts.rulesPending()) {
            return null;
        }
        return new UnavailableException("the access rules are not in force yet (a new leader proposes them); retry");
    }

    /**
     * Watches: answered by any member from the changes it applied (a follower's may lag the
     * leader's by the entries it has not applied yet; positions are the same everywhere).
     */
    @Override
    public CompletableFuture<ChangePage> changes(
            String identity, io.holdfast.WatchTarget target, ChangePosition from, long waitMillis) {
        return io.holdfast.node.ChangePolls.poll(parts.changeLog(), target, from, waitMillis, parts.changeWakeups());
    }

    /**
     * Sessions through the client port: only the leader answers (a follower sends the client to
     * it), so that the page is linearizable and has every session's TTL left.
     */
    @Override
    public CompletableFuture<io.holdfast.model.SessionPage> sessions(String identity, String after, int limit) {
        if (!parts.duties().isActive()) {
            return CompletableFuture.failedFuture(parts.gateway().notLeader());
        }
        return parts.inspector().sessions(identity, after, limit);
    }

    /** The members as this node sees them ({@link NodeInspector#cluster}). */
    @Override
    public CompletableFuture<io.holdfast.model.ClusterInfo> cluster() {
        return parts.inspector().cluster();
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
        if (!parts.duties().isActive()) {
            return CompletableFuture.failedFuture(parts.gateway().notLeader());
        }
        if (!parts.isAdmin(identity)) {
            return CompletableFuture.failedFuture(new io.holdfast.PermissionDeniedException(
                    (identity == null ? "an unauthenticated client" : "identity " + identity)
                            + " may not change the members: that needs admin"));
        }
        return parts.membership()
                .change(change)
                .handle((done, error) -> {
                    parts.audit()
                            .membersChanged(
                                    parts.duties().clusterNow(),
                                    identity,
                                    change.describe(),
                                    error == null ? "ok" : Causes.rootMessage(error));
                    if (error != null) {
                        throw error instanceof java.util.concurrent.CompletionException c
                                ? c
                                : new java.util.concurrent.CompletionException(error);
                    }
                    return done;
                })
                .thenCompose(done -> cluster());
    }
}
