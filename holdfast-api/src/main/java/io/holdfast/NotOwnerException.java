package io.holdfast;

/**
 * The caller tried to release or renew something it does not hold. Like {@code
 * java.util.concurrent.locks}, this is an {@link IllegalMonitorStateException}.
 */
public class NotOwnerException extends IllegalMonitorStateException implements HasErrorCode {
    private static final long serialVersionUID = 1L;

    public NotOwnerException(String message) {
        super(message);
    }

    @Override
    public ErrorCode code() {
        return ErrorCode.NOT_OWNER;
    }
}
