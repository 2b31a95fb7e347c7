package io.holdfast.core;

import io.holdfast.model.Command;
import java.io.IOException;

/** Bytes that are not a well-formed {@link Command} of a known format. */
public final class CommandFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final boolean unknownKind;

    public CommandFormatException(String message) {
        this(message, false);
    }

    /**
     * @param unknownKind whether the bytes name a command format or type this build does not know
     *     (one a newer build writes), rather than being damaged
     */
    public CommandFormatException(String message, boolean unknownKind) {
        super(message);
        this.unknownKind = unknownKind;
    }

    /** Whether the command is of a format or type this build does not know (a newer build's). */
    public boolean unknownKind() {
        return unknownKind;
    }
}
