package io.holdfast;

/**
 * The service or store cannot be reached, has no leader, or did not answer in time after the
 * retry policy was used up. The outcome of a request that failed this way is unknown: it may or may
 * not have taken effect, which is why changing requests carry invocation ids and are safe to retry.
 */
public class UnavailableException extends HoldfastException {
    private static final long serialVersionUID = 1L;

    public UnavailableException(String message) {
        super(ErrorCode.UNAVAILABLE, message, null);
    }

    public UnavailableException(String message, Throwable cause) {
        super(ErrorCode.UNAVAILABLE, message, cause);
    }
}
