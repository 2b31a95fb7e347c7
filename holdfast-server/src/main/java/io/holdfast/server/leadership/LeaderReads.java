package io.holdfast.server.leadership;

import io.holdfast.LockInfo;
import io.holdfast.UnavailableException;
import io.holdfast.internal.Causes;
import io.holdfast.model.FenceCheck;
import io.holdfast.model.KeyPage;
import io.holdfast.model.RegisterValue;
import io.holdfast.server.raft.LockStateMachine;
import io.holdfast.server.raft.ReadIndex;
import io.holdfast.server.raft.TableQuery;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;
import java.util.function.LongFunction;
import java.util.function.Predicate;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * The reads a client makes of the table ({@code Describe}, {@code List}, {@code IsCurrentHolder},
 * {@code IsCurrentHolderMany}, {@code ReadRegister}, {@code Keys}): linearizable, at any member (ADR
 * 0003).
 *
 * <p><b>Guarantees.</b> Each read sees every write acknowledged before it was asked. At the
 * leader it passes the leader's read barrier and lease ({@link RaftGateway#afterBarrier}), then
 * reads the local table under the state machine's lock. At a member that does not lead it asks the
 * leader for its read index ({@link ReadIndex}: the leader's applied index after that same barrier
 * and lease check), waits until this replica has applied that index, and reads its own table, with
 * the leader's cluster clock (one request at a time, shared by every read that arrived while the
 * one before it was in flight: {@link SharedReadIndex}); one that has not applied that index within
 * its bound fails the read with {@link UnavailableException}, so that its client asks another
 * member. A member that knows
 * no leader fails the read at once with {@link io.holdfast.model.NotLeaderException} naming none;
 * one whose leader refuses (it does not lead, or lacks its lease) or that reaches no leader fails
 * the read with {@link UnavailableException}; one whose leader runs a build without read indexes,
 * with {@link io.holdfast.model.NotLeaderException} naming the leader (its clients read there, as
 * before).
 *
 * <p><b>Does not</b> check who asks: the caller filters or refuses what an identity may not read.
 *
 * <p><b>A failure it rules out.</b> Ratis's own read index at a follower is answered by the leader
 * at once when its last heartbeat round was acknowledged, with no lease check: a leader cut off a
 * moment ago would hand a follower an index that misses a newer leader's writes, and the follower
 * would say that a lock released (and granted to another) is still free, or that a fenced-out token
 * is still the holder's.
 */
public final class LeaderReads {
    private final RaftGateway raft;
    private final LeaderDuties duties;
    private final LockStateMachine machine;
    private final Executor asker;
    private final java.util.function.BooleanSupplier leaderKnown;
    private final ScheduledExecutorService timer;
    private final long catchUpMillis;
    /** The read indexes asked of the leader, one at a time, each shared by the reads that wait for it. */
    private final SharedReadIndex<ByteString> readIndexes;

    /**
     * @param leader asks the leader, as {@link LeaderLink#askAsync}
     * @param asker where a member that does not lead reads the leader's answer, and where its reads
     *     run
     * @param leaderKnown whether this member knows of a leader: without one, a read fails at once
     * @param timer times {@code catchUpMillis}
     * @param catchUpMillis how long a member that does not lead waits to apply the leader's read
     *     index before it fails the read with {@link UnavailableException} (its client asks another
     *     member)
     */
    public LeaderReads(
            RaftGateway raft,
            LeaderDuties duties,
            LockStateMachine machine,
            Function<TableQuery, CompletableFuture<ByteString>> leader,
            Executor asker,
            java.util.function.BooleanSupplier leaderKnown,
            ScheduledExecutorService timer,
            long catchUpMillis) {
        this.leaderKnown = leaderKnown;
        this.timer = timer;
        this.catchUpMillis = catchUpMillis;
        this.raft = raft;
        this.duties = duties;
        this.machine = machine;
        this.asker = asker;
        this.readIndexes = new SharedReadIndex<>(() -> LeaderLink.asked(leader, ReadIndex.QUERY));
    }

    public CompletableFuture<Optional<LockInfo>> describe(String name) {
        return linearizable(now -> machine.read(t -> t.describe(name, now)));
    }

    public CompletableFuture<List<LockInfo>> list(String prefix, int limit) {
        return linearizable(now -> machine.read(t -> t.list(prefix, limit, now)));
    }

    public CompletableFuture<Boolean> isCurrentHolder(String name, long token) {
        return linearizable(now -> machine.read(t -> t.isCurrentHolder(name, token)));
    }

    /**
     * Each token checked as {@link #isCurrentHolder} does, all at one point: one barrier (or one
     * read index at a member that does not lead) and one pass under the state machine's lock, however
     * many there are.
     */
    public CompletableFuture<List<Boolean>> isCurrentHolderMany(List<FenceCheck> checks) {
        return linearizable(now -> machine.read(t -> {
            List<Boolean> current = new java.util.ArrayList<>(checks.size());
            for (FenceCheck c : checks) {
                current.add(t.isCurrentHolder(c.name(), c.token()));
            }
            return List.copyOf(current);
        }));
    }

    public CompletableFuture<Optional<RegisterValue>> readRegister(String key) {
        return linearizable(now -> machine.read(t -> t.register(key)));
    }

    /**
     * A page of the keys under {@code prefix} after {@code after} (null or "" for the first) that
     * {@code visible} accepts, at the position right after the last entry applied.
     */
    public CompletableFuture<KeyPage> keys(String prefix, String after, int limit, Predicate<String> visible) {
        String from = after == null || after.isEmpty() ? null : after;
        return linearizable(now -> machine.readAt((t, at) -> t.keys(prefix, from, limit, visible, at)));
    }

    /**
     * {@code read} (given the cluster clock) once this replica has every write acknowledged before
     * now: after the leader's barrier here, or after the leader's read index at another member.
     */
    private <T> CompletableFuture<T> linearizable(LongFunction<T> read) {
        if (duties.isActive()) {
            // the clock outside the machine's lock: duties lock before machine lock
            return raft.afterBarrier(() -> read.apply(duties.clusterNow()));
        }
        if (!leaderKnown.getAsBoolean()) {
            return CompletableFuture.failedFuture(raft.notLeader()); // cut off, or an election under way
        }
        return readIndexes
                .get()
                .handleAsync(this::readIndex, asker)
                .thenCompose(index -> machine.appliedWaits()
                        .within(index.index(), asker, timer, catchUpMillis, "member " + raft.selfId())
                        .thenApply(v -> read.apply(index.clusterNow())));
    }

    private ReadIndex.Answer readIndex(ByteString content, Throwable failure) {
        Optional<ReadIndex.Answer> answer;
        try {
            answer = ReadIndex.Answer.parse(LeaderLink.content(content, failure));
        } catch (UnavailableException | IllegalArgumentException e) {
            throw new CompletionException(new UnavailableException(
                    "member " + raft.selfId() + " cannot serve a linearizable read: " + Causes.rootMessage(e), e));
        }
        if (answer.isEmpty()) {
            throw new CompletionException(raft.notLeader()); // the leader's build has no read index
        }
        if (answer.get().refusal() != null) {
            throw new CompletionException(new UnavailableException("member " + raft.selfId()
                    + " cannot serve a linearizable read: the leader refused its read index ("
                    + answer.get().refusal() + "); ask again"));
        }
        return answer.get();
    }
}
