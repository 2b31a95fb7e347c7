package io.holdfast.server.config;

/**
 * A node could not start. The message is one line that says why (a port in use, an unwritable data
 * directory, a damaged log, a peer of another cluster, ...), fit to be shown to an operator as it
 * is; the cause, when there is one, is the failure it was read from.
 */
public final class StartupException extends Exception {
    private static final long serialVersionUID = 1L;

    public StartupException(String message, Throwable cause) {
        super(message, cause);
    }
}
