package io.holdfast.core;

import java.io.IOException;

/** A snapshot could not be read: corrupt, truncated, of an unknown version, or inconsistent. */
public final class SnapshotFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public SnapshotFormatException(String message) {
        super(message);
    }

    public SnapshotFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
