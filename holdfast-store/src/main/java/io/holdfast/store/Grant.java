package io.holdfast.store;

/**
 * What a store granted: the request, its fencing token and whatever the backend needs to renew or
 * release it later.
 *
 * @param request the request that was granted
 * @param token the fencing token; larger than every token the store granted before for this name
 * @param handle backend-specific state (a key, a row id, a Curator recipe object), or {@code null}
 */
public record Grant(LockRequest request, long token, Object handle) {
    public Grant {
        if (request == null) {
            throw new IllegalArgumentException("a grant needs its request");
        }
    }

    /** A grant without backend state. */
    public Grant(LockRequest request, long token) {
        this(request, token, null);
    }
}
