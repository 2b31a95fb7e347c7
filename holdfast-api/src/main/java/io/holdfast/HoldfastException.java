package io.holdfast;

/**
 * The base of Holdfast's unchecked exceptions (all but the ownership failures, see {@link
 * HasErrorCode}). Holdfast never reports an infrastructure failure as {@code false} or an empty
 * result: a store that cannot be reached is an {@link UnavailableException}, not "lock busy".
 */
public abstract class HoldfastException extends RuntimeException implements HasErrorCode {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    protected HoldfastException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    @Override
    public ErrorCode code() {
        return code;
    }
}
