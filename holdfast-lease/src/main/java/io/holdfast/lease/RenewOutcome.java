package io.holdfast.lease;

/**
 * What one renewal came to, as an engine reports it from {@link ManagedLease#renewInBackend()}.
 *
 * <ul>
 *   <li>{@link Renewed}: the backend acknowledged it. The lease's expiry now counts from the moment
 *       this renewal was <em>sent</em> (never from its acknowledgement, which may come late).
 *   <li>{@link Refused}: the backend no longer has the grant (it expired, was revoked, or the
 *       session is gone). The lease is declared lost with this reason.
 *   <li>{@link Unknown}: no answer (unreachable, a timeout). Nothing changes; the watchdog tries
 *       again next period, and the expiry rule decides if no renewal is ever acknowledged.
 * </ul>
 *
 * <p><b>What it does not say</b>: when the backend's own expiry now ends; the lease only ever counts
 * from the sending of an acknowledged renewal, the earliest moment the backend can have renewed it.
 *
 * <p><b>Failure story.</b> A renewal's reply is lost on the way back. The engine reports {@link
 * Unknown}, not {@link Refused}: the grant may well be renewed, and a lease must not be declared lost
 * on a guess; if no later renewal is acknowledged either, the expiry rule declares it lost.
 */
public sealed interface RenewOutcome {
    /** An acknowledged renewal. */
    record Renewed() implements RenewOutcome {}

    /** A renewal the backend refused; {@code why} completes "lock x (token 7) was lost: ...". */
    record Refused(String why) implements RenewOutcome {}

    /** A renewal whose outcome is unknown; {@code cause} may be {@code null}. */
    record Unknown(Throwable cause) implements RenewOutcome {}

    /** An acknowledged renewal. */
    static RenewOutcome renewed() {
        return new Renewed();
    }

    /** A refused renewal. */
    static RenewOutcome refused(String why) {
        return new Refused(why);
    }

    /** A renewal whose outcome is unknown. */
    static RenewOutcome unknown(Throwable cause) {
        return new Unknown(cause);
    }
}
