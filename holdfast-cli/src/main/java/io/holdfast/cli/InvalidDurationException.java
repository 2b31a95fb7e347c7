package io.holdfast.cli;

/** A text that {@link Durations#parse(String)} does not read as a duration. The message says why, in one line. */
public final class InvalidDurationException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String input;

    InvalidDurationException(String input, String reason) {
        super("'" + input + "' is not a duration: " + reason + " (write it like 250ms, 30s, 2m, 1h, 7d or 1m30s)");
        this.input = input;
    }

    /** The text that was rejected. */
    public String input() {
        return input;
    }
}
