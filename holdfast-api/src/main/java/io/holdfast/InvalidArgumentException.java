package io.holdfast;

/**
 * A request was malformed or out of bounds: an empty or over-long name, a negative or absurd
 * duration, more permits than a semaphore has, a value over the size limit. Nothing changed.
 */
public class InvalidArgumentException extends HoldfastException {
    private static final long serialVersionUID = 1L;

    public InvalidArgumentException(String message) {
        super(ErrorCode.INVALID_ARGUMENT, message, null);
    }

    public InvalidArgumentException(String message, Throwable cause) {
        super(ErrorCode.INVALID_ARGUMENT, message, cause);
    }
}
