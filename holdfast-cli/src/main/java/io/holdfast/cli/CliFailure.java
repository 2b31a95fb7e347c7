package io.holdfast.cli;

/**
 * An expected failure of a command (backend down, lock not acquired, bad input found late): {@link Main} prints
 * {@code holdfast COMMAND: MESSAGE} as one line on stderr (a message of several lines is joined into one), without
 * a stack trace unless {@code HOLDFAST_DEBUG=1}, and exits with {@link #exitCode()}. Commands found at run time
 * ({@link CliCommand}) throw it as the built-in ones do.
 *
 * <p>Not checked: that the code is one of {@link ExitCodes}. Failure story: a command throws it with code 0; the
 * process then prints the line and exits 0, which a script takes for success: use {@link ExitCodes}.
 */
public final class CliFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int exitCode;

    /** A failure that exits with {@code exitCode} after printing {@code message}. */
    public CliFailure(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    /** As {@link #CliFailure(int, String)}, keeping {@code cause} for {@code HOLDFAST_DEBUG=1}. */
    public CliFailure(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    /** The process's exit code. */
    public int exitCode() {
        return exitCode;
    }
}
