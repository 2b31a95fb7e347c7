package io.holdfast;

/**
 * The client's session is unknown to the service or has expired (its heartbeats stopped for longer
 * than its TTL). Every lock it held has been released and every wait it had queued cancelled. A
 * client whose session expired cannot act again: open a new client.
 */
public class SessionExpiredException extends HoldfastException {
    private static final long serialVersionUID = 1L;

    public SessionExpiredException(String message) {
        super(ErrorCode.SESSION_EXPIRED, message, null);
    }

    public SessionExpiredException(String message, Throwable cause) {
        super(ErrorCode.SESSION_EXPIRED, message, cause);
    }
}
