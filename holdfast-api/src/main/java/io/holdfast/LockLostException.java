package io.holdfast;

/**
 * A lease was taken away while its holder believed it held it: the session expired, the lease
 * timeout passed without renewal, or an operator revoked it. Work done under the lease after this
 * point may overlap with the next holder's; only a store that checks fencing tokens can refuse it.
 *
 * <p>Delivered to {@link Lease#onLost} listeners and thrown by {@link Lease#checkValid()} and
 * {@link Lease#release()}.
 */
public class LockLostException extends NotOwnerException {
    private static final long serialVersionUID = 1L;

    public LockLostException(String message) {
        super(message);
    }

    @Override
    public ErrorCode code() {
        return ErrorCode.LOCK_LOST;
    }
}
