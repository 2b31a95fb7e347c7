package io.holdfast.server.node;

import io.holdfast.Ticker;
import io.holdfast.UnavailableException;
import io.holdfast.endpoint.frame.Gathering;
import io.holdfast.internal.CallBatches;
import io.holdfast.internal.Causes;
import io.holdfast.model.Command;
import io.holdfast.model.NotLeaderException;
import io.holdfast.model.Reply;
import io.holdfast.server.leadership.LeaderLink;
import io.holdfast.server.raft.AppliedWaits;
import io.holdfast.server.raft.Forward;
import io.holdfast.server.raft.ForwardBatch;
import io.holdfast.server.raft.TableQuery;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * A member's forwarding of its clients' writes and waits to the leader (ADR 0003): what {@link
 * RaftLockService#submit} does at a member that does not lead.
 *
 * <p><b>Guarantees.</b>
 *
 * <ul>
 *   <li>The leader submits the command through its own gate, with the identity this member
 *       authenticated: the cluster clock, the access rules, quotas, the cluster's version and the
 *       proposer's batching apply once, there. The reply is the leader's.
 *   <li>The reply is handed out only once this member has applied the leader's index at the time
 *       it answered, which is at or past the entry the reply came from: the client's next read or
 *       event here sees its own write. A member that has not applied it within its bound fails
 *       the write with {@link UnavailableException} instead: the client sends it again (to
 *       another member), and the table answers the repeat with the first answer.
 *   <li>A retried forward (a lost answer, a leader change) is one effect: the command carries its
 *       client's invocation id, and the table answers a repeat with the first answer.
 *   <li>A member that knows no leader (cut off from the majority, or an election is under way)
 *       fails the write at once with {@link NotLeaderException} naming no leader.
 *   <li>A member that has had no answer from the leader within {@code answerMillis} (a leader
 *       that does not answer yet, a link still trying a member that no longer leads, writes queued
 *       behind such tries) fails the write with {@link UnavailableException}, before its client's
 *       own attempt gives up on it: the client sends it to another member at once, rather than
 *       waiting out its attempt and a pause. The write may still reach the leader: the client's
 *       repeat is answered with the first answer, as above.
 *   <li>A leader that does not lead any more refuses: the client is told {@link
 *       UnavailableException} (ask again: this member forwards to the next leader). A leader whose
 *       build does not know forwarding answers nothing: the client is told {@link
 *       NotLeaderException} naming the leader, and sends its writes there, as before members
 *       forwarded.
 * </ul>
 *
 * <p>Writes go to the leader in batches when several wait ({@link CallBatches}); those a frame
 * batch brought together (one read of the client port) are asked for together at its end ({@link
 * Gathering}), so they share a call rather than the first going alone.
 *
 * <p><b>Not gated by the cluster's version</b> ({@code ClusterVersion}): the forward is a read-only
 * request, never a log entry, and an older leader answers it with nothing and no effect, which is
 * the signal above; a gate would only save that one round trip during a rolling upgrade.
 *
 * <p><b>Who may send it:</b> only a member, see {@link Forward}.
 *
 * <p><b>A failure it rules out.</b> A client writes at its home, then reads there at once: had the
 * member answered as soon as the leader did, the read could run before the member applied the
 * write and miss it (or an event of the write could come after the reply to a later read).
 */
final class WriteForwarding {
    /** Batches of writes to the leader in flight at once; the writes asked for meanwhile wait for the next. */
    static final int BATCHES_IN_FLIGHT = 4;
    /** The most writes in one batch. */
    static final int MOST_PER_BATCH = 256;
    /** The most bytes of writes in one batch (a write larger than that goes alone). */
    static final long MOST_BYTES_PER_BATCH = 1 << 20;

    private final String nodeId;
    private final Function<TableQuery, CompletableFuture<ByteString>> leader;
    private final Executor sender;
    private final AppliedWaits applied;
    private final Supplier<NotLeaderException> notLeader;
    private final java.util.function.BooleanSupplier leaderKnown;
    private final ScheduledExecutorService timer;
    private final long catchUpMillis;
    private final long answerMillis;
    /** The writes on their way to the leader, together when several wait ({@link ForwardBatch}). */
    private final CallBatches<Forward, ByteString> batches;
    /** The writes of one frame batch, asked for together at its end (alone outside one). */
    private final Gathering<Asked> asking = new Gathering<>(this::askAll);

    /**
     * @param leader asks the leader, as {@code LeaderLink#askAsync}
     * @param sender where the leader's answer is read and the reply handed out
     * @param leaderKnown whether this member knows of a leader: without one, a write fails at once
     * @param timer times {@code catchUpMillis}
     * @param ticker the clock of the window in which an older leader is sent one write per request
     * @param catchUpMillis how long this member waits to apply the leader's index of a reply before
     *     it fails the write with {@link UnavailableException} (its client sends it again elsewhere,
     *     and is answered the first answer)
     * @param answerMillis how long this member waits for the leader's answer to a write, from its
     *     asking, before it fails the write with {@link UnavailableException}
     */
    WriteForwarding(
            String nodeId,
            Function<TableQuery, CompletableFuture<ByteString>> leader,
            Executor sender,
            AppliedWaits applied,
            Supplier<NotLeaderException> notLeader,
            java.util.function.BooleanSupplier leaderKnown,
            ScheduledExecutorService timer,
            long catchUpMillis,
            long answerMillis,
            Ticker ticker) {
        this.nodeId = nodeId;
        this.answerMillis = answerMillis;
        this.timer = timer;
        this.catchUpMillis = catchUpMillis;
        this.leaderKnown = leaderKnown;
        this.leader = leader;
        this.sender = sender;
        this.applied = applied;
        this.notLeader = notLeader;
        this.batches = new CallBatches<>(
                new CallBatches.Sender<>() {
                    @Override
                    public CompletableFuture<List<ByteString>> many(List<Forward> writes) {
                        return LeaderLink.asked(leader, new ForwardBatch(writes))
                                .thenApply(content -> ForwardBatch.Answer.parse(content, writes.size())
                                        .orElseThrow(OlderLeader::new));
                    }

                    @Override
                    public CompletableFuture<ByteString> one(Forward write) {
                        return LeaderLink.asked(leader, write);
                    }
                },
                new CallBatches.Limits(
                        BATCHES_IN_FLIGHT, MOST_PER_BATCH, MOST_BYTES_PER_BATCH, CallBatches.seconds(60)),
                w -> w.wire().size(),
                e -> Causes.find(e, OlderLeader.class) != null,
                sender,
                ticker);
    }

    /** A leader whose build does not know batches answered one with nothing: writes go one request each. */
    private static final class OlderLeader extends RuntimeException {
        private static final long serialVersionUID = 1L;

        OlderLeader() {
            super("the leader's build does not take forwarded batches", null, false, false);
        }
    }

    /** A write to forward and its answer's future. */
    private record Asked(Forward write, CompletableFuture<ByteString> answer) {}

    /** Asks the leader for writes gathered together (one frame batch's), in their order. */
    private void askAll(List<Asked> gathered) {
        List<Forward> writes = new ArrayList<>(gathered.size());
        for (Asked a : gathered) {
            writes.add(a.write());
        }
        List<CompletableFuture<ByteString>> answers = batches.askEach(writes);
        for (int i = 0; i < gathered.size(); i++) {
            CompletableFuture<ByteString> to = gathered.get(i).answer();
            answers.get(i).whenComplete((content, error) -> {
                if (error != null) {
                    to.completeExceptionally(error);
                } else {
                    to.complete(content);
                }
            });
        }
    }

    /** The leader's reply to {@code command}, once this member has applied it. */
    CompletableFuture<Reply> forward(Command command, String identity) {
        if (!leaderKnown.getAsBoolean()) {
            // cut off, or an election under way: at once, not after a round of timeouts
            return CompletableFuture.failedFuture(notLeader.get());
        }
        Forward write;
        try {
            write = Forward.of(command, identity);
            write.wire(); // the encoding's own checks (sizes), here rather than on the sender
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletableFuture<ByteString> asked = new CompletableFuture<>();
        asking.add(new Asked(write, asked));
        return bounded(asked).handleAsync(this::answer, sender).thenCompose(answer -> {
            if (answer.refusal() != null) {
                throw new CompletionException(new UnavailableException("member " + nodeId
                        + " forwarded the write to a node that does not lead (" + answer.refusal()
                        + "); ask again"));
            }
            return applied.within(answer.index(), sender, timer, catchUpMillis, "member " + nodeId)
                    .thenApply(v -> {
                        if (answer.reply() != null) {
                            return answer.reply();
                        }
                        throw new CompletionException(answer.code().toException(answer.detail()));
                    });
        });
    }

    /**
     * {@code asked}, or failed with {@link UnavailableException} once {@code answerMillis} passed
     * without its answer (the ask itself goes on: a late answer is dropped).
     */
    private CompletableFuture<ByteString> bounded(CompletableFuture<ByteString> asked) {
        if (asked.isDone()) {
            return asked;
        }
        CompletableFuture<ByteString> out = new CompletableFuture<>();
        ScheduledFuture<?> bound;
        try {
            bound = timer.schedule(
                    () -> out.completeExceptionally(
                            new UnavailableException("the leader did not answer within " + answerMillis + " ms")),
                    answerMillis,
                    TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            return asked; // the timer was shut down: the server is closing, which fails the ask
        }
        asked.whenComplete((bytes, failure) -> {
            bound.cancel(false);
            if (failure != null) {
                out.completeExceptionally(failure);
            } else {
                out.complete(bytes);
            }
        });
        return out;
    }

    private Forward.Answer answer(ByteString bytes, Throwable failure) {
        Optional<Forward.Answer> answer;
        try {
            answer = Forward.Answer.parse(LeaderLink.content(bytes, failure));
        } catch (UnavailableException e) {
            throw new CompletionException(new UnavailableException(
                    "member " + nodeId + " could not forward the write: " + Causes.rootMessage(e), e));
        } catch (IllegalArgumentException e) {
            throw new CompletionException(new UnavailableException(
                    "member " + nodeId + " could not read the leader's answer: " + e.getMessage(), e));
        }
        if (answer.isEmpty()) {
            throw new CompletionException(notLeader.get()); // the leader's build does not forward
        }
        return answer.get();
    }
}
