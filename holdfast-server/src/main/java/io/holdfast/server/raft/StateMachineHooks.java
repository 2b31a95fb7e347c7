package io.holdfast.server.raft;

import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.Reply;
import java.util.List;

/**
 * What the node learns from its state machine ({@link LockStateMachine}): applied entries,
 * leadership, snapshots, and a stop. Called on Ratis's threads.
 */
public interface StateMachineHooks {
    /** An entry was applied: see {@link Applied}. */
    void applied(Applied entry);

    void leaderReady();

    void notLeader();

    /**
     * This node learnt of a new leader (null: none known). Called from inside Ratis: must
     * return at once and not call back into the Raft server.
     */
    default void leaderChanged(String leader) {}

    /**
     * The table was replaced by a snapshot taken at log index {@code index} (at start, or one
     * the leader sent): the entries up to it will not be applied here.
     */
    default void tableLoaded(long index) {}

    /**
     * A snapshot of {@code bytes} was written for log index {@code index}, in {@code nanos} (the
     * table encoded, written, forced to disk and its MD5 saved, all under the apply lock: nothing is
     * applied meanwhile).
     */
    default void snapshotTaken(long index, long bytes, long nanos) {}

    /**
     * A round of heartbeats a member relays ({@link TableQuery.TouchSessions}), on the node that
     * received it: the leader's verdicts, or its refusal. Called on Ratis's threads; must not wait
     * on the network. A node that does not serve rounds refuses them.
     */
    default TableQuery.TouchSessions.Answer touchSessions(List<String> sessionIds) {
        return TableQuery.TouchSessions.Answer.refused("this node does not serve relayed heartbeats");
    }

    /**
     * A write a member forwards for its client ({@link Forward}), on the node that received it:
     * the leader submits it through its own gate and answers with the reply, or refuses it (it
     * does not lead). Called on Ratis's threads; must return at once (the answer may complete
     * later). A node that does not serve forwarded writes refuses them.
     */
    default java.util.concurrent.CompletableFuture<Forward.Answer> forward(Forward write) {
        return java.util.concurrent.CompletableFuture.completedFuture(
                Forward.Answer.refused("this node does not serve forwarded writes"));
    }

    /**
     * Writes a member forwards together ({@link ForwardBatch}), on the node that received them: each
     * handed to {@link #forward} in the order given, one after the other without waiting (so that the
     * leader's proposer sees them together), and answered as {@link #forward} answers it; a write
     * whose answer failed is answered {@code UNAVAILABLE}.
     */
    default java.util.concurrent.CompletableFuture<ForwardBatch.Answer> forwardBatch(ForwardBatch batch) {
        List<java.util.concurrent.CompletableFuture<Forward.Answer>> each = new java.util.ArrayList<>();
        for (Forward write : batch.writes()) {
            java.util.concurrent.CompletableFuture<Forward.Answer> answer;
            try {
                answer = forward(write);
            } catch (RuntimeException e) {
                answer = java.util.concurrent.CompletableFuture.failedFuture(e);
            }
            each.add(answer.handle((a, e) -> e == null
                    ? a
                    : Forward.Answer.failed(
                            io.holdfast.ErrorCode.UNAVAILABLE, io.holdfast.internal.Causes.rootMessage(e), -1)));
        }
        return java.util.concurrent.CompletableFuture.allOf(each.toArray(java.util.concurrent.CompletableFuture[]::new))
                .thenApply(done -> new ForwardBatch.Answer(each.stream()
                        .map(java.util.concurrent.CompletableFuture::join)
                        .toList()));
    }

    /**
     * A member asks for the read index ({@link ReadIndex}), on the node that received it: the
     * leader's applied index after its read barrier and lease check, or its refusal. Called on
     * Ratis's threads; must return at once.
     */
    default java.util.concurrent.CompletableFuture<ReadIndex.Answer> readIndex() {
        return java.util.concurrent.CompletableFuture.completedFuture(
                ReadIndex.Answer.refused("this node does not serve read indexes"));
    }

    /**
     * This replica stopped applying the log, for {@code reason} (one line): an entry holds a
     * command of a kind this build does not know. Ratis closes the division right after.
     */
    default void halted(String reason) {}

    /**
     * An applied entry: its log index, its commands (null where damaged), their replies, and the
     * events each command caused, all in the same order; the changes the entry made to holders,
     * queues and registers, in order (for watches); then the table's clock and its earliest
     * deadline ({@link io.holdfast.core.LockTable#nextDeadline()}) right after the entry, read under the apply lock
     * so that the hook need not take it again.
     */
    record Applied(
            long index,
            List<Command.Envelope> commands,
            List<Reply> replies,
            List<List<Event>> events,
            List<io.holdfast.WatchEvent> changes,
            long tableNow,
            long nextDeadline) {}
}
