package io.holdfast.model;

import java.util.function.Consumer;

/**
 * What the lock table tells sessions besides the reply to the command at hand: grants to waiters,
 * timeouts, losses. Every replica emits the same events for the same log; the leader delivers
 * them.
 */
public sealed interface Event {
    /** The session the event is for. */
    String sessionId();

    /**
     * Calls the visitor's method for this event's type. The places that must treat every event
     * (the wire conversion, the HTTP event stream, the metrics, the outcome of a wait) are
     * visitors, so a new event does not compile until each says what it does with it.
     */
    <R> R accept(Visitor<R> visitor);

    /**
     * One method per event.
     *
     * @param <R> what the visit gives back
     */
    interface Visitor<R> {
        R granted(Granted e);

        R waitTimedOut(WaitTimedOut e);

        R lost(Lost e);

        R sessionExpired(SessionExpired e);

        /**
         * A visitor that hands each event to its own action and gives back nothing: one parameter
         * per event, so a new event changes this signature and no caller compiles until it says
         * what it does with it.
         */
        static Visitor<Void> of(
                Consumer<Granted> granted,
                Consumer<WaitTimedOut> waitTimedOut,
                Consumer<Lost> lost,
                Consumer<SessionExpired> sessionExpired) {
            return new Visitor<>() {
                @Override
                public Void granted(Granted e) {
                    granted.accept(e);
                    return null;
                }

                @Override
                public Void waitTimedOut(WaitTimedOut e) {
                    waitTimedOut.accept(e);
                    return null;
                }

                @Override
                public Void lost(Lost e) {
                    lost.accept(e);
                    return null;
                }

                @Override
                public Void sessionExpired(SessionExpired e) {
                    sessionExpired.accept(e);
                    return null;
                }
            };
        }
    }

    /**
     * A queued acquire (the one with sequence number {@code seq}) was granted. A queued multi-lock
     * is granted in one step and told by one such event per name, in name order, one after the
     * other, all with its seq.
     */
    record Granted(String sessionId, long seq, String name, long token) implements Event {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.granted(this);
        }
    }

    /**
     * A queued acquire reached its deadline; its queue entry is gone. For a multi-lock, one event
     * naming its first name.
     */
    record WaitTimedOut(String sessionId, long seq, String name) implements Event {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.waitTimedOut(this);
        }
    }

    /** A grant was taken away. */
    record Lost(String sessionId, String name, long token, Reason reason) implements Event {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.lost(this);
        }
    }

    /** The session expired; its grants were lost and its waits cancelled. */
    record SessionExpired(String sessionId) implements Event {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.sessionExpired(this);
        }
    }

    /** Why a grant was lost. */
    enum Reason {
        SESSION_EXPIRED,
        LEASE_TIMEOUT,
        REVOKED
    }
}
