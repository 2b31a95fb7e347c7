package io.holdfast.server.node;

import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.Reply;
import io.holdfast.server.raft.ClusterIdRecord;
import io.holdfast.server.raft.StateMachineHooks;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a node does with what its state machine tells it ({@link StateMachineHooks}): each applied
 * entry feeds the metrics, the cluster identity, the change record for watches, the audit trail,
 * the leader's session bookkeeping, the sessions' event memory and the subscribers' events; a
 * change of leadership starts or stops the leader's duties (the quotas of its options among them:
 * {@link QuotaOptions}); subscriptions go on at every member. It also serves what other members
 * ask of the leader: relayed heartbeats, forwarded writes and read indexes (ADR 0003).
 *
 * <p><b>Guarantees.</b> Runs on Ratis's apply thread and returns without waiting on the network:
 * events go to their subscribers through {@link EventRouter}'s own thread, proposals through the
 * {@link Proposer}. Every replica feeds the same parts in the same order, since it applies the same
 * log. <b>Not guaranteed:</b> that a subscriber hears an event it was not subscribed for when it
 * was applied (see {@link EventRouter}).
 */
final class NodeHooks implements StateMachineHooks {
    private static final Logger LOG = LoggerFactory.getLogger(NodeHooks.class);

    private final NodeParts parts;
    private final QuotaOptions quotas;

    NodeHooks(NodeParts parts) {
        this.parts = parts;
        this.quotas = new QuotaOptions(parts);
    }

    @Override
    public void applied(Applied entry) {
        long index = entry.index();
        List<Command.Envelope> commands = entry.commands();
        List<Reply> replies = entry.replies();
        List<List<Event>> events = entry.events();
        parts.metrics().applied(commands, replies, events);
        parts.identity().applied(commands);
        parts.changeLog().append(index, entry.changes());
        parts.inspector().tableClock(entry.tableNow());
        List<String> closed = List.of();
        for (int i = 0; i < commands.size() && i < replies.size(); i++) {
            if (commands.get(i) == null) {
                continue;
            }
            parts.audit().applied(commands.get(i), replies.get(i), events.get(i));
            Command c = commands.get(i).command();
            if (c instanceof Command.OpenSession open && replies.get(i) instanceof Reply.Ok) {
                parts.sessionEvents().opened(open.sessionId());
            } else if (c instanceof Command.CloseSession close && replies.get(i) instanceof Reply.Ok) {
                closed = closed.isEmpty() ? new java.util.ArrayList<>(1) : closed;
                closed.add(close.invocation().sessionId());
            }
        }
        parts.sessionEvents().append(index, events, closed);
        for (List<Event> caused : events) {
            for (Event e : caused) {
                if (e instanceof Event.SessionExpired expired) {
                    logExpiry(expired.sessionId(), caused);
                }
            }
            parts.events().deliver(caused);
        }
        parts.duties().applied(entry); // its sessions opened, closed and expired, and its deadline
        quotas.applied(commands);
    }

    /** A round relayed by a member: {@link Heartbeats}'s verdicts, or why this node refuses it. */
    @Override
    public io.holdfast.server.raft.TableQuery.TouchSessions.Answer touchSessions(List<String> sessionIds) {
        return parts.heartbeats().round(sessionIds);
    }

    /**
     * A write a member forwards ({@link WriteForwarding}): submitted through this leader's own gate
     * ({@link RaftLockService#submit(Command, String)}) and answered with its reply or failure and
     * the index this node had applied then; refused when this node does not lead.
     */
    @Override
    public java.util.concurrent.CompletableFuture<io.holdfast.server.raft.Forward.Answer> forward(
            io.holdfast.server.raft.Forward write) {
        if (write.envelope() == null) {
            return java.util.concurrent.CompletableFuture.completedFuture(io.holdfast.server.raft.Forward.Answer.failed(
                    io.holdfast.ErrorCode.UNSUPPORTED,
                    "the leader's build cannot read the forwarded command (" + write.unreadable() + ")",
                    appliedIndex()));
        }
        if (!parts.duties().isActive()) {
            return java.util.concurrent.CompletableFuture.completedFuture(
                    io.holdfast.server.raft.Forward.Answer.refused(
                            parts.gateway().notLeader().getMessage()));
        }
        return parts.service()
                .submit(write.envelope().command(), write.envelope().identity())
                .handle((reply, error) -> {
                    if (error == null) {
                        return io.holdfast.server.raft.Forward.Answer.of(reply, appliedIndex());
                    }
                    Throwable cause =
                            error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                                    ? error.getCause()
                                    : error;
                    if (cause instanceof io.holdfast.model.NotLeaderException) {
                        return io.holdfast.server.raft.Forward.Answer.refused(cause.getMessage());
                    }
                    io.holdfast.ErrorCode code =
                            cause instanceof io.holdfast.HasErrorCode c ? c.code() : io.holdfast.ErrorCode.UNAVAILABLE;
                    return io.holdfast.server.raft.Forward.Answer.failed(
                            code, io.holdfast.internal.Causes.rootMessage(cause), appliedIndex());
                });
    }

    /**
     * A member asks for the read index: this leader's applied index after its read barrier and
     * lease check (as its own reads), with its cluster clock; refused otherwise.
     */
    @Override
    public java.util.concurrent.CompletableFuture<io.holdfast.server.raft.ReadIndex.Answer> readIndex() {
        return parts.gateway()
                .afterBarrier(() -> {
                    long now = parts.duties().clusterNow();
                    return io.holdfast.server.raft.ReadIndex.Answer.of(appliedIndex(), now);
                })
                .exceptionally(e ->
                        io.holdfast.server.raft.ReadIndex.Answer.refused(io.holdfast.internal.Causes.rootMessage(e)));
    }

    private long appliedIndex() {
        var last = parts.machine().getLastAppliedTermIndex();
        return last == null ? -1 : last.getIndex();
    }

    @Override
    public void tableLoaded(long index) {
        parts.machine().read(ClusterIdRecord::inTable).ifPresent(parts.identity()::seen);
        parts.sessionEvents().loaded(index);
        parts.changeLog().loaded(index);
    }

    @Override
    public void leaderReady() {
        parts.duties().start();
        // Heartbeats that reached this node's relay during the election: answered now, as the leader, on a thread of
        // their own (this is Ratis's applier, and a round's verdicts are sent to the clients on the thread that gives
        // them: at 20,000 sessions that held the applier about 0.2 s, docs/benchmarks.md 2026-12-04).
        io.holdfast.internal.DaemonThreads.thread(
                        () -> parts.relay().answerHere(parts.heartbeats()::round),
                        "holdfast-held-heartbeats-" + parts.config().nodeId())
                .start();
        parts.identity().leaderReady(parts.machine().read(ClusterIdRecord::inTable), parts.proposer()::propose);
        io.holdfast.core.AccessRules initial = parts.initialRules();
        if (initial != null && parts.machine().read(t -> t.accessRules() == null)) {
            LOG.info("No access rules in force: proposing the {} this node started with", initial);
            parts.proposer()
                    .propose(Command.Envelope.of(
                            parts.duties().clusterNow(), new Command.SetAccessRules(initial.text())))
                    .whenComplete((reply, error) -> {
                        if (error != null || reply instanceof Reply.Failed) {
                            LOG.warn("The initial access rules were not applied: {}", error != null ? error : reply);
                        }
                    });
        }
        quotas.offer();
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
                .addKeyValue("node", parts.selfId())
                .addKeyValue("session", sessionId)
                .log(
                        "Session {} expired (no heartbeat within its TTL); {}",
                        sessionId,
                        lost.length() == 0 ? "it held nothing" : "it lost " + lost);
    }

    @Override
    public void leaderChanged(String leader) {
        parts.metrics().leaderChanged();
        parts.events()
                .runInOrder(() -> LOG.atInfo()
                        .addKeyValue("event", "leader-changed")
                        .addKeyValue("node", parts.selfId())
                        .addKeyValue("leader", leader)
                        .addKeyValue("term", parts.gateway().term())
                        .log(
                                leader == null
                                        ? "Node {} knows no leader (term {})"
                                        : parts.selfId().toString().equals(leader)
                                                ? "Node {} is now the leader (term {})"
                                                : "Node {}" + " follows leader " + leader + " (term {})",
                                parts.selfId(),
                                parts.gateway().term()));
    }

    @Override
    public void halted(String reason) {
        parts.halt().complete(reason);
    }

    @Override
    public void snapshotTaken(long index, long bytes, long nanos) {
        parts.metrics().snapshot(bytes, nanos);
        long millis = nanos / 1_000_000;
        LOG.atInfo()
                .addKeyValue("event", "snapshot")
                .addKeyValue("node", parts.selfId())
                .addKeyValue("index", index)
                .addKeyValue("bytes", bytes)
                .addKeyValue("millis", millis)
                .log(
                        "Node {} wrote a snapshot at log index {} ({} bytes in {} ms)",
                        parts.selfId(),
                        index,
                        bytes,
                        millis);
    }

    /**
     * This node does not lead (any more): its leader duties stop. Event subscriptions and acquires
     * waiting over HTTP go on: every member delivers its subscribers' events, and decides the waits
     * of its HTTP clients, from the entries it applies (ADR 0003), so a client that keeps its
     * session here is not moved by a change of leader. A member cut off from the new leader
     * applies nothing more: its waits are decided by their backstop ({@code WaitBackstop}), which
     * asks the leader and is told there is none.
     */
    @Override
    public void notLeader() {
        parts.duties().stop();
    }

    /** Ends every event subscription and waiting outcome on this node, telling each {@code why}. */
    static void endSubscriptions(NodeParts parts, String why) {
        parts.events().endAll(() -> parts.gateway().notLeader(why));
        parts.sessionEvents().failOutcomes(() -> parts.gateway().notLeader(why));
    }
}
