package io.holdfast;

import java.util.SortedMap;

/**
 * Group membership and service discovery over {@link Keys} ({@link LockClient#group(String)};
 * Curator's {@code GroupMember} and {@code ServiceDiscovery}, etcd's {@code endpoints} under a
 * lease): a member joins a group with a value (an address, a description) as the key {@code
 * <group>/<member>} attached to its client's session; anyone lists the live members or watches
 * them.
 *
 * <pre>{@code
 * GroupMembership web = client.group("services/web");
 * web.join("i-17", "10.0.0.17:8080".getBytes(UTF_8));
 * try (Watch w = web.watch(members -> balancer.update(members.keySet()))) { ... }
 * }</pre>
 *
 * <p><b>Guarantees</b>: a member stays in the group while its session lives and leaves it in the
 * same step as the session ends (closed, expired, ended by an operator): a reader that lists after
 * that step does not see it, and every watcher is told. A member name belongs to one session at a
 * time: joining with a name another live session holds is refused (the clients in other languages
 * and {@code holdfast kv join} keep the same rule by the same steps: {@code docs/protocol.md},
 * "Group membership"). {@link #members()} lists at the leader; a {@link #watch} hands its listener
 * the whole group after each change, in the service's order of changes.
 *
 * <p><b>Across a lost session</b> (ADR 0004): the member leaves with its session, as above; when
 * the client has opened its next session ({@link SessionListener#reestablished}), each member this
 * object had joined and not left is joined again with its last value, by the same rule, where a
 * name still held by one of this client's own lost sessions (the service keeps it until that
 * session's TTL has passed, which a restarted or new leader starts afresh) counts as this
 * client's: the key moves to the new session at once, compared by version (as the Python, Go and
 * Node clients do, docs/protocol.md); if another live session holds the name, it is not taken
 * over: the member is dropped and {@link RejoinListener#rejoinFailed} told. A join that cannot
 * reach the service is tried again, from 100 ms doubling up to 1 s. A client opened with {@link ClientOptions#renewSessions()
 * renewSessions(false)}, or of a provider that cannot renew, never joins again.
 *
 * <p><b>Does not</b> check what members write: a value is opaque bytes, at most {@link
 * Keys#MAX_VALUE_BYTES}.
 *
 * <p><b>Failure story</b>: instance {@code i-17} of {@code services/web} is SIGKILLed. Its
 * heartbeats stop; when its session's TTL passes the service ends the session and deletes {@code
 * services/web/i-17} in the same step. Every watcher's listener is called with a group without
 * {@code i-17} (the watch's {@link WatchEvent.Type#REGISTER_DELETED} carries the cause {@code
 * SESSION_EXPIRED}); a load balancer that routes by it stops sending there within the TTL and the
 * watch's delay.
 *
 * <p>Needs {@link Capability#KEYS} and {@link Capability#SESSION_KEYS}.
 */
public interface GroupMembership {
    /** Told the whole group after each change: member names (after the group's prefix) to keys. */
    @FunctionalInterface
    interface Listener {
        /** The live members now, by name; called on the watch's thread, one call at a time. */
        void membersChanged(SortedMap<String, KeyEntry> members);
    }

    /**
     * Told how a member joined again after a new session went ({@link GroupMembership}, "Across a
     * lost session"): on the client's callback pool, one call per member and session.
     */
    interface RejoinListener {
        /** {@code member} is joined again under the client's new session, as {@code entry}. */
        default void rejoined(String member, KeyEntry entry) {}

        /**
         * {@code member} was not joined again: another live session holds the name ({@code
         * holder}: its id, or null for a key attached to no session). The member is dropped: join
         * again to try once more.
         */
        void rejoinFailed(String member, String holder);
    }

    /** The group's name: its members are the keys under {@code <group>/}. */
    String group();

    /**
     * Joins the group as {@code member} with {@code value}, attached to the client's session; joined
     * already (by this session), writes the new value.
     *
     * @return the member's key as written
     * @throws ConflictException when another live session holds the member name (the message names
     *     it: {@code member M of group G is held by session S}), or a key attached to no session sits
     *     there ({@code held by no session}); nothing changed
     * @throws InvalidArgumentException for a member name with a {@code /}, or a value too large
     * @throws UnsupportedFeatureException without {@link Capability#SESSION_KEYS}
     */
    KeyEntry join(String member, byte[] value);

    /**
     * Tells {@code listener} how the members joined through this object fare when the client
     * renews its session.
     *
     * @throws InvalidArgumentException if the listener is null
     */
    void addRejoinListener(RejoinListener listener);

    /**
     * Leaves the group as {@code member}, if this session holds it (and is not joined again after a
     * lost session in any case).
     *
     * @return whether this session was that member
     */
    boolean leave(String member);

    /** The live members now, by name, read at the leader page by page. */
    SortedMap<String, KeyEntry> members();

    /**
     * Follows the group: {@code listener} is told the whole group first, then after each change.
     * Close the watch to stop.
     *
     * @throws InvalidArgumentException if the listener is null
     */
    Watch watch(Listener listener);
}
