package io.holdfast.cli;

import io.holdfast.ErrorCode;

/**
 * The exit codes of the {@code holdfast} command. Besides these, {@code holdfast lock} exits with its child's
 * own code (128 + N when the child was killed by signal N), so the codes below are picked from
 * {@code sysexits.h} where a child is unlikely to use them.
 */
public final class ExitCodes {
    /** Success. */
    public static final int OK = 0;

    /** {@code holdfast demo}: a check failed (a counter was wrong, critical sections overlapped, a token did not rise). */
    public static final int CHECK_FAILED = 1;

    /** Bad command line: unknown option, missing argument, malformed duration or URI ({@code EX_USAGE}). */
    public static final int USAGE = 64;

    /** The backend could not be reached or refused to serve ({@code EX_UNAVAILABLE}). */
    public static final int BACKEND_UNAVAILABLE = 69;

    /** An internal error in the CLI itself ({@code EX_SOFTWARE}). */
    public static final int SOFTWARE = 70;

    /** {@code holdfast server}: the node could not start (port in use, data directory, damaged log…). */
    public static final int SERVER_START_FAILED = 71;
    /** A file the command was asked to write cannot be created (EX_CANTCREAT). */
    public static final int CANNOT_CREATE = 73;

    /** {@code holdfast lock}: the lock was not acquired within {@code --wait} ({@code EX_TEMPFAIL}). */
    public static final int NOT_ACQUIRED = 75;

    /** The server refused the caller's identity or its permissions (sysexits' EX_NOPERM). */
    public static final int NO_PERMISSION = 77;

    /** {@code holdfast lock}: the lock was lost while the child ran; the child was stopped. */
    public static final int LOCK_LOST = 76;

    /** {@code holdfast lock}: COMMAND was found but could not be started (as in the shell). */
    public static final int CANNOT_RUN = 126;

    /** {@code holdfast lock}: COMMAND was not found (as in the shell). */
    public static final int COMMAND_NOT_FOUND = 127;

    private ExitCodes() {}

    /** The exit code for a failure the API reports with {@code code}. */
    public static int of(ErrorCode code) {
        return switch (code) {
            case TIMEOUT, DEADLOCK, CONFLICT -> NOT_ACQUIRED;
            case LOCK_LOST -> LOCK_LOST;
            case UNAVAILABLE, SESSION_EXPIRED -> BACKEND_UNAVAILABLE;
            case INVALID_ARGUMENT, UNSUPPORTED -> USAGE;
            case NOT_OWNER -> SOFTWARE;
            case PERMISSION_DENIED -> NO_PERMISSION;
            case QUOTA_EXCEEDED -> NOT_ACQUIRED;
        };
    }
}
