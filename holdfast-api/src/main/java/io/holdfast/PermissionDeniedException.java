package io.holdfast;

/**
 * The service refused the request because of who sent it: the client presented no valid identity
 * (no client certificate, a bad or expired token), its identity has no permission for this verb on
 * this name, or the session it named belongs to another identity. Nothing changed. Retrying does
 * not help until the credentials or the server's access rules change.
 *
 * <p>Failure story: a job's token was issued for {@code reports/*}; it tries {@code orders/7} and
 * gets this exception at once, rather than waiting for a lock it could never be given.
 */
public class PermissionDeniedException extends HoldfastException {
    private static final long serialVersionUID = 1L;

    public PermissionDeniedException(String message) {
        super(ErrorCode.PERMISSION_DENIED, message, null);
    }

    public PermissionDeniedException(String message, Throwable cause) {
        super(ErrorCode.PERMISSION_DENIED, message, cause);
    }
}
