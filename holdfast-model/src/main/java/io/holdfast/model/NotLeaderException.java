package io.holdfast.model;

import io.holdfast.UnavailableException;

/**
 * The node asked is not the leader and cannot serve the request. When it knows the leader, it names
 * the leader's client address so that the client can go there at once instead of backing off.
 */
public final class NotLeaderException extends UnavailableException {
    private static final long serialVersionUID = 1L;

    private final String leaderAddress;

    /**
     * @param message human-readable detail
     * @param leaderAddress the leader's client address as {@code host:port}, or null if unknown
     */
    public NotLeaderException(String message, String leaderAddress) {
        super(message);
        this.leaderAddress = leaderAddress;
    }

    /** The leader's client address ({@code host:port}), or null if this node does not know it. */
    public String leaderAddress() {
        return leaderAddress;
    }
}
