package io.holdfast.model;

import java.util.List;

/**
 * One page of sessions as operators see them (dashboard, JSON API, {@code holdfast sessions}).
 *
 * @param sessions the sessions, sorted by id
 * @param next the id to ask after for the next page, or null on the last page
 * @param linearizable whether the page was read through the leader's read barrier; false when a
 *     follower answered from its own replica, which may lag
 */
public record SessionPage(List<Session> sessions, String next, boolean linearizable) {
    /** The most sessions one page holds: the largest {@code limit} a service accepts. */
    public static final int MAX_LIMIT = 10_000;

    public SessionPage {
        sessions = List.copyOf(sessions);
    }

    /**
     * One session.
     *
     * @param identity the authenticated identity that opened it, or null
     * @param openForMillis how long ago (cluster time) it was opened
     * @param holds grants it holds
     * @param waits requests it has queued
     * @param ttlLeftMillis milliseconds before it expires without a heartbeat, as the leader
     *     tracks it; null where the answering node does not know (a follower)
     */
    public record Session(
            String id,
            String identity,
            String clientName,
            long ttlMillis,
            long lockDelayMillis,
            long openForMillis,
            int holds,
            int waits,
            Long ttlLeftMillis) {
        /** The same session with the TTL left the leader knows. */
        public Session withTtlLeft(Long millis) {
            return new Session(
                    id, identity, clientName, ttlMillis, lockDelayMillis, openForMillis, holds, waits, millis);
        }
    }
}
