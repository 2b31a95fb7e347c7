package io.holdfast.spring;

/**
 * The application cannot start because of Holdfast's configuration or because the service cannot be reached;
 * the message names the property or the URI, and {@link #action()} says what to do. Spring Boot prints both
 * instead of a stack trace.
 */
public class HoldfastConfigurationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String action;

    public HoldfastConfigurationException(String message, String action, Throwable cause) {
        super(message, cause);
        this.action = action;
    }

    /** What the operator should do about it. */
    public String action() {
        return action;
    }
}
