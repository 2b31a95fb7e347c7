package io.holdfast.endpoint;

import io.holdfast.PermissionDeniedException;

/**
 * A credential refused, with the reason {@link AuthFailures} counts it under: what {@link Tokens}
 * and {@link JwksKeys} throw, so that the port that asked can count and log the failure without
 * reading the message.
 */
final class RefusedCredentials extends PermissionDeniedException {
    private static final long serialVersionUID = 1L;

    private final transient AuthFailures.Reason reason;

    RefusedCredentials(AuthFailures.Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    AuthFailures.Reason reason() {
        return reason;
    }

    /** A token this server cannot read or accept. */
    static RefusedCredentials badToken(String message) {
        return new RefusedCredentials(AuthFailures.Reason.BAD_TOKEN, message);
    }

    /** A token whose signature does not verify. */
    static RefusedCredentials badSignature(String message) {
        return new RefusedCredentials(AuthFailures.Reason.BAD_SIGNATURE, message);
    }

    /** A token past its expiry. */
    static RefusedCredentials expired(String message) {
        return new RefusedCredentials(AuthFailures.Reason.EXPIRED_TOKEN, message);
    }
}
