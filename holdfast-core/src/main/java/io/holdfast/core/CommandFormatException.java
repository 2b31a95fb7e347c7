package io.holdfast.core;

import java.io.IOException;

/** Bytes that are not a well-formed {@link Command} of a known format. */
public final class CommandFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public CommandFormatException(String message) {
        super(message);
    }
}
