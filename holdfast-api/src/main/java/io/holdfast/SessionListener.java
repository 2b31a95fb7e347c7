package io.holdfast;

/**
 * Told when a {@link LockClient}'s session is lost, and when the client has opened the next one
 * (ADR 0004): registered with {@link LockClient#addSessionListener}.
 *
 * <p><b>Guarantees.</b> Calls come on the client's callback thread, one at a time, in the order of
 * the events: {@link #lost} for a session, then {@link #reestablished} for the next, then {@link
 * #lost} for that one, and so on; never on a transport or timer thread, so a listener may call the
 * client. When {@link #lost} is called, every lease of the lost session is lost already (their
 * {@link Lease#onLost} listeners are told as well) and every wait of it has failed with {@link
 * SessionExpiredException}.
 *
 * <p><b>Not guaranteed.</b> That {@link #reestablished} follows: a client opened with {@link
 * ClientOptions#renewSessions() renewSessions(false)}, one closed meanwhile, and a provider that
 * cannot renew (its javadoc says so) tell {@link #lost} only. Nothing lost is taken again on the
 * application's behalf: a lock wanted after {@link #reestablished} is a new acquire, with a new,
 * larger fencing token.
 *
 * <p><b>Failure story.</b> The service is down for longer than the session's TTL. The client hears
 * no heartbeat acknowledged for a whole TTL: {@code lost(old, "no heartbeat was acknowledged for a
 * whole TTL (10s)")}. It tries to open a session from 100 ms on, doubling up to 2 s, with full
 * jitter; the service comes back, a try succeeds: {@code reestablished(new)}. Group members this
 * client had joined are joined again, and its watches went on all along.
 */
public interface SessionListener {
    /**
     * The session {@code oldId} was lost ({@code cause} says why, in one line); its leases are lost.
     *
     * @param oldId the lost session's id
     * @param cause why: its heartbeats went unanswered for a TTL, the service expired it, or an
     *     operator ended it
     */
    default void lost(String oldId, String cause) {}

    /**
     * The client opened a new session, {@code newId}; {@link LockClient#sessionId()} says so from
     * now on. Calls that waited for a session go on under it.
     */
    default void reestablished(String newId) {}
}
