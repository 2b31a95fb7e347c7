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
    private final transient String identity;

    RefusedCredentials(AuthFailures.Reason reason, String message) {
        this(reason, null, message);
    }

    /** @param identity whose token it was, once its signature passed (a revoked or expired one); else null */
    RefusedCredentials(AuthFailures.Reason reason, String identity, String message) {
        super(message);
        this.reason = reason;
        this.identity = identity;
    }

    AuthFailures.Reason reason() {
        return reason;
    }

    /** Whose token was refused, when its signature passed; null when nobody can say. */
    String identity() {
        return identity;
    }

    /** A token this server cannot read or accept. */
    static RefusedCredentials badToken(String message) {
        return new RefusedCredentials(AuthFailures.Reason.BAD_TOKEN, message);
    }

    /** A token whose signature does not verify. */
    static RefusedCredentials badSignature(String message) {
        return new RefusedCredentials(AuthFailures.Reason.BAD_SIGNATURE, message);
    }

    /** A token of {@code identity} (its signature verified) past its expiry. */
    static RefusedCredentials expired(String identity, String message) {
        return new RefusedCredentials(AuthFailures.Reason.EXPIRED_TOKEN, identity, message);
    }
}
