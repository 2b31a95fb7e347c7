package io.holdfast;

/**
 * A compare-and-set found another version than expected, or a fenced write found its fencing
 * token no longer current. Nothing was written. Optimistic callers re-read and retry.
 */
public class ConflictException extends HoldfastException {
    private static final long serialVersionUID = 1L;

    private final long currentVersion;

    /**
     * @param message human-readable detail
     * @param currentVersion the version found, 0 if the register is absent, -1 if not known
     */
    public ConflictException(String message, long currentVersion) {
        super(ErrorCode.CONFLICT, message, null);
        this.currentVersion = currentVersion;
    }

    /** The version found at the time of the conflict: 0 if absent, -1 if unknown. */
    public long currentVersion() {
        return currentVersion;
    }
}
