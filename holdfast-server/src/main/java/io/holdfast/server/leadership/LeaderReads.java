package io.holdfast.server.leadership;

import io.holdfast.LockInfo;
import io.holdfast.model.KeyPage;
import io.holdfast.model.RegisterValue;
import io.holdfast.server.raft.LockStateMachine;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

/**
 * The reads a client makes of the table ({@code Describe}, {@code List}, {@code IsCurrentHolder},
 * {@code ReadRegister}, {@code Keys}): linearizable, answered by the leader only.
 *
 * <p><b>Guarantees.</b> Each read passes the leader's read barrier and lease ({@link
 * RaftGateway#afterBarrier}), then reads the local table under the state machine's lock, so it
 * sees every write acknowledged before it was asked. A node that does not lead fails it with
 * {@link io.holdfast.model.NotLeaderException} naming the leader when it knows it; one whose lease
 * lapsed, with {@link io.holdfast.UnavailableException}.
 *
 * <p><b>Does not</b> check who asks: the caller filters or refuses what an identity may not read.
 */
public final class LeaderReads {
    private final RaftGateway raft;
    private final LeaderDuties duties;
    private final LockStateMachine machine;

    public LeaderReads(RaftGateway raft, LeaderDuties duties, LockStateMachine machine) {
        this.raft = raft;
        this.duties = duties;
        this.machine = machine;
    }

    public CompletableFuture<Optional<LockInfo>> describe(String name) {
        return raft.afterBarrier(() -> {
            long now = duties.clusterNow(); // outside the machine's lock: duties lock before machine lock
            return machine.read(t -> t.describe(name, now));
        });
    }

    public CompletableFuture<List<LockInfo>> list(String prefix, int limit) {
        return raft.afterBarrier(() -> {
            long now = duties.clusterNow();
            return machine.read(t -> t.list(prefix, limit, now));
        });
    }

    public CompletableFuture<Boolean> isCurrentHolder(String name, long token) {
        return raft.afterBarrier(() -> machine.read(t -> t.isCurrentHolder(name, token)));
    }

    public CompletableFuture<Optional<RegisterValue>> readRegister(String key) {
        return raft.afterBarrier(() -> machine.read(t -> t.register(key)));
    }

    /**
     * A page of the keys under {@code prefix} after {@code after} (null or "" for the first) that
     * {@code visible} accepts, at the position right after the last entry applied.
     */
    public CompletableFuture<KeyPage> keys(String prefix, String after, int limit, Predicate<String> visible) {
        String from = after == null || after.isEmpty() ? null : after;
        return raft.afterBarrier(() -> machine.readAt((t, at) -> t.keys(prefix, from, limit, visible, at)));
    }
}
