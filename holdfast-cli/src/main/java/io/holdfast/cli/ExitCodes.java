package io.holdfast.cli;

/**
 * The exit codes of the {@code holdfast} command. Besides these, {@code holdfast lock} exits with its child's
 * own code (128 + N when the child was killed by signal N), so the codes below are picked from
 * {@code sysexits.h} where a child is unlikely to use them.
 */
public final class ExitCodes {
    /** Success. */
    public static final int OK = 0;

    /** The command exists but arrives with a later issue (for example {@code server} before the server lands). */
    public static final int NOT_AVAILABLE = 2;

    /** Bad command line: unknown option, missing argument, malformed duration or URI ({@code EX_USAGE}). */
    public static final int USAGE = 64;

    /** The backend could not be reached or refused to serve ({@code EX_UNAVAILABLE}). */
    public static final int BACKEND_UNAVAILABLE = 69;

    /** An internal error in the CLI itself ({@code EX_SOFTWARE}). */
    public static final int SOFTWARE = 70;

    /** {@code holdfast lock}: the lock was not acquired within {@code --wait} ({@code EX_TEMPFAIL}). */
    public static final int NOT_ACQUIRED = 75;

    /** {@code holdfast lock}: the lock was lost while the child ran; the child was stopped. */
    public static final int LOCK_LOST = 76;

    private ExitCodes() {}
}
