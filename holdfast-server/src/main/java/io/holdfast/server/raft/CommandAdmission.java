package io.holdfast.server.raft;

/**
 * Which commands the leader may write to the log now, by their type ({@code CommandCodec}'s type
 * byte): the state machine asks it for every entry a client of the Raft port proposes ({@link
 * LockStateMachine#startTransaction}), and the node's service asks it before it proposes.
 *
 * <p>Guarantees of an implementation: a command of a kind this build does not know is always
 * refused (no replica of this build could apply it); answering never blocks on the network.
 * Failure story it prevents: during a rolling upgrade the new leader logs a command of protocol
 * version 6 while one member still runs a build of version 5; that member would stop at the entry
 * it cannot read. With the admission in place the proposal is refused in one line naming the
 * member that holds the cluster back.
 */
@FunctionalInterface
public interface CommandAdmission {
    /** Why a command of this type must not be logged now (one line), or null when it may. */
    String refusal(int type);
}
