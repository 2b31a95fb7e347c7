package io.holdfast.model;

/**
 * What {@link LockTable} tells sessions besides the reply to the command at hand: grants to
 * waiters, timeouts, losses. Every replica emits the same events for the same log; the leader
 * delivers them.
 */
public sealed interface Event {
    /** The session the event is for. */
    String sessionId();

    /**
     * A queued acquire (the one with sequence number {@code seq}) was granted. A queued multi-lock
     * is granted in one step and told by one such event per name, in name order, one after the
     * other, all with its seq.
     */
    record Granted(String sessionId, long seq, String name, long token) implements Event {}

    /**
     * A queued acquire reached its deadline; its queue entry is gone. For a multi-lock, one event
     * naming its first name.
     */
    record WaitTimedOut(String sessionId, long seq, String name) implements Event {}

    /** A grant was taken away. */
    record Lost(String sessionId, String name, long token, Reason reason) implements Event {}

    /** The session expired; its grants were lost and its waits cancelled. */
    record SessionExpired(String sessionId) implements Event {}

    /** Why a grant was lost. */
    enum Reason {
        SESSION_EXPIRED,
        LEASE_TIMEOUT,
        REVOKED
    }
}
