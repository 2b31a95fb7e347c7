package io.holdfast;

/**
 * The request would exceed a quota or size limit of the service (sessions per identity, holds or
 * waits per session, waiters per lock, total state); the message names the limit and its value.
 * Nothing changed: the session and everything it holds stay as they were. Retrying helps only once
 * the caller (or the identity it shares the quota with) gives something back; or, for a session
 * open refused because the leader has too many opens waiting for the log already (a flood: the
 * message says "open again after a pause"), after a pause. It is also how the Holdfast client
 * refuses an answer larger than it accepts (its message names the client's limit in bytes): that
 * call alone fails, the connection and every other call go on.
 *
 * <p>Failure story: a buggy client opens a session per request and never closes them; once its
 * identity holds the maximum number of sessions, its next open fails with this exception while
 * every other identity keeps working.
 */
public class QuotaExceededException extends HoldfastException {
    private static final long serialVersionUID = 1L;

    public QuotaExceededException(String message) {
        super(ErrorCode.QUOTA_EXCEEDED, message, null);
    }
}
