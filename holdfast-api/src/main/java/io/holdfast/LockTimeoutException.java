package io.holdfast;

/**
 * The wait for a lock, lease or permit ended at its deadline without a grant. The waiter's queue
 * entry is gone when this is thrown: a timed-out wait is never granted later.
 */
public class LockTimeoutException extends HoldfastException {
    private static final long serialVersionUID = 1L;

    public LockTimeoutException(String message) {
        super(ErrorCode.TIMEOUT, message, null);
    }

    public LockTimeoutException(String message, Throwable cause) {
        super(ErrorCode.TIMEOUT, message, cause);
    }
}
