package io.holdfast.verify.history;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/**
 * One line of a run's record file (JSON lines): what a client did ({@link Op}), what a store saw
 * ({@link StoreWrite}), what the harness did to the system ({@link Fault}), what the system looked
 * like at the end ({@link FinalLock}, {@link Replica}), what each node applied ({@link Applied}), how
 * long each replica took to catch up after a heal ({@link CaughtUp}), how an interrupted addition of a
 * member ended ({@link AddRetried}), and how the run was set up
 * ({@link Meta}). The checkers read
 * nothing else, so a saved file can be checked again later ({@code holdfast verify --check FILE}).
 *
 * <p>Every {@code time} is {@link System#nanoTime()} of the process that wrote the line. On Linux
 * that is {@code CLOCK_MONOTONIC}, one clock for every process on the machine, so times from
 * different processes of one run compare; runs across machines are not supported.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "rec")
@JsonSubTypes({
    @JsonSubTypes.Type(value = Op.class, name = "op"),
    @JsonSubTypes.Type(value = StoreWrite.class, name = "write"),
    @JsonSubTypes.Type(value = Fault.class, name = "fault"),
    @JsonSubTypes.Type(value = FinalLock.class, name = "final"),
    @JsonSubTypes.Type(value = Meta.class, name = "meta"),
    @JsonSubTypes.Type(value = Replica.class, name = "replica"),
    @JsonSubTypes.Type(value = Applied.class, name = "applied"),
    @JsonSubTypes.Type(value = CaughtUp.class, name = "caught-up"),
    @JsonSubTypes.Type(value = AddRetried.class, name = "add-retried")
})
public sealed interface Record permits Op, StoreWrite, Fault, FinalLock, Meta, Replica, Applied, CaughtUp, AddRetried {
    /** When it happened: {@link System#nanoTime()} of the writing process (see above). */
    long time();
}
