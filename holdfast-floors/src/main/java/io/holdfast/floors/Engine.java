package io.holdfast.floors;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * One consensus engine under measurement: one or three members started in this JVM, an echo state machine, and
 * writes submitted to the leader in this process, the way Holdfast's server submits them (no network between the
 * caller and the leader; members talk over loopback as the engine does in production). One row, {@code ratis-table},
 * runs Holdfast's own state machine instead of the echo and logs W1's commands in place of the given bytes (see
 * {@code RatisEngine}).
 *
 * <p>Contract: {@link #start} returns only once a leader accepts writes; a write's future completes only once its
 * entry is durable (fsync before acknowledging, when {@code fsync} is on) on a majority and applied by the leader's
 * state machine, with the state machine's answer, which is the entry's own bytes ({@code ratis-table} checks the
 * table's answer itself and completes with the entry given). An engine does not batch writes
 * on the caller's side or answer before the commit: the floor must be what a lock service built on the engine could
 * reach, not less. What it does not promise: fairness between threads, or how the engine's internal batching groups
 * concurrent writes.
 *
 * <p>Failure story: an engine left with its fsync off (JGroups Raft's default, for one) would report writes three
 * times faster than the disk allows; each implementation sets its durability explicitly and
 * {@code EngineContractTest} checks that every write counted was applied and that the setting is on.
 */
public interface Engine extends AutoCloseable {
    /** The row's name, for example {@code ratis-grpc}. */
    String name();

    /**
     * Starts {@code nodes} members (1 or 3) with their data under {@code dir}, and returns once a leader accepts
     * writes.
     *
     * @param settings engine-specific keys set on top of the engine's defaults (for Ratis, Ratis property keys)
     */
    void start(int nodes, Path dir, boolean fsync, Map<String, String> settings) throws Exception;

    /** Submits one entry to the leader; completes with the state machine's answer once committed and applied. */
    CompletableFuture<byte[]> write(byte[] entry);

    /** How many entries the leader's state machine has applied since {@link #start}. */
    long applied();

    /** Whether every member makes an entry durable before acknowledging it, as started; read back from the engine. */
    boolean durable();

    @Override
    void close() throws Exception;
}
