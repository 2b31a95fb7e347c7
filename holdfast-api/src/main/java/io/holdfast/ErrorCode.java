package io.holdfast;

/**
 * The kinds of failure every provider reports, one per exception type. A transport that carries a
 * failure over the wire sends the code and the message, and {@link #toException(String)} rebuilds
 * the same typed exception on the other side.
 */
public enum ErrorCode {
    /** The wait ended at its deadline without a grant: {@link LockTimeoutException}. */
    TIMEOUT,
    /** The caller does not hold what it tried to release or renew: {@link NotOwnerException}. */
    NOT_OWNER,
    /** A held lock was taken away (session expiry, lease timeout, revoke): {@link LockLostException}. */
    LOCK_LOST,
    /** The session is unknown or expired: {@link SessionExpiredException}. */
    SESSION_EXPIRED,
    /** The wait would close a cycle in the wait-for graph: {@link DeadlockException}. */
    DEADLOCK,
    /** A compare-and-set or fenced write lost a race: {@link ConflictException}. */
    CONFLICT,
    /** The service or store cannot be reached or has no leader: {@link UnavailableException}. */
    UNAVAILABLE,
    /** A request was malformed or out of bounds: {@link InvalidArgumentException}. */
    INVALID_ARGUMENT,
    /** The provider cannot honour a feature: {@link UnsupportedFeatureException}. */
    UNSUPPORTED,
    /**
     * The caller is not authenticated, or its identity may not do this to this name, or the
     * session belongs to another identity: {@link PermissionDeniedException}.
     */
    PERMISSION_DENIED,
    /** A quota or size limit would be exceeded; nothing changed: {@link QuotaExceededException}. */
    QUOTA_EXCEEDED;

    /**
     * Builds the exception type this code stands for.
     *
     * @param message the human-readable detail, never null
     * @return a new exception whose {@code code()} is this code
     */
    public RuntimeException toException(String message) {
        return switch (this) {
            case TIMEOUT -> new LockTimeoutException(message);
            case NOT_OWNER -> new NotOwnerException(message);
            case LOCK_LOST -> new LockLostException(message);
            case SESSION_EXPIRED -> new SessionExpiredException(message);
            case DEADLOCK -> new DeadlockException(message, java.util.List.of());
            case CONFLICT -> new ConflictException(message, -1);
            case UNAVAILABLE -> new UnavailableException(message);
            case INVALID_ARGUMENT -> new InvalidArgumentException(message);
            case UNSUPPORTED -> new UnsupportedFeatureException(message);
            case PERMISSION_DENIED -> new PermissionDeniedException(message);
            case QUOTA_EXCEEDED -> new QuotaExceededException(message);
        };
    }
}
