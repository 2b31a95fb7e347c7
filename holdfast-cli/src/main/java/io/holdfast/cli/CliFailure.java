package io.holdfast.cli;

/**
 * An expected failure of a command (backend down, lock not acquired, bad input found late): {@link Main} prints
 * its message as one line on stderr, without a stack trace, and exits with {@link #exitCode()}.
 */
final class CliFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int exitCode;

    CliFailure(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    CliFailure(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }
}
