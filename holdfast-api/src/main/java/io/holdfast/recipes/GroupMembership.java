package io.holdfast.recipes;

import io.holdfast.Capability;
import io.holdfast.ConflictException;
import io.holdfast.InvalidArgumentException;
import io.holdfast.KeyEntry;
import io.holdfast.KeyListing;
import io.holdfast.Keys;
import io.holdfast.LockClient;
import io.holdfast.Names;
import io.holdfast.PutOptions;
import io.holdfast.Watch;
import java.util.Collections;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Group membership and service discovery over {@link Keys} (Curator's {@code GroupMember} and
 * {@code ServiceDiscovery}, etcd's {@code endpoints} under a lease): a member joins a group with a
 * value (an address, a description) as the key {@code <group>/<member>} attached to its client's
 * session; anyone lists the live members or watches them.
 *
 * <pre>{@code
 * GroupMembership web = GroupMembership.of(client, "services/web");
 * web.join("i-17", "10.0.0.17:8080".getBytes(UTF_8));
 * try (Watch w = web.watch(members -> balancer.update(members.keySet()))) { ... }
 * }</pre>
 *
 * <p><b>Guarantees</b>: a member stays in the group while its session lives and leaves it in the
 * same step as the session ends (closed, expired, ended by an operator): a reader that lists after
 * that step does not see it, and every watcher is told. A member name belongs to one session at a
 * time: joining with a name another live session holds is refused. {@link #members()} lists at the
 * leader; a {@link #watch} hands its listener the whole group after each change, in the service's
 * order of changes.
 *
 * <p><b>Does not</b> keep a member whose session ended: a client whose session expired (a long
 * pause, a partition) is no member any more, and must open a new client and join again. Nor does it
 * check what members write: a value is opaque bytes, at most {@link Keys#MAX_VALUE_BYTES}.
 *
 * <p><b>Failure story</b>: instance {@code i-17} of {@code services/web} is SIGKILLed. Its
 * heartbeats stop; when its session's TTL passes the service ends the session and deletes {@code
 * services/web/i-17} in the same step. Every watcher's listener is called with a group without
 * {@code i-17} (the watch's {@link io.holdfast.WatchEvent.Type#REGISTER_DELETED} carries the cause
 * {@code SESSION_EXPIRED}); a load balancer that routes by it stops sending there within the TTL
 * and the watch's delay.
 *
 * <p>Needs {@link Capability#KEYS} and {@link Capability#SESSION_KEYS}.
 */
public final class GroupMembership {
    /** Told the whole group after each change: member names (after the group's prefix) to keys. */
    @FunctionalInterface
    public interface Listener {
        /** The live members now, by name; called on the watch's thread, one call at a time. */
        void membersChanged(SortedMap<String, KeyEntry> members);
    }

    private final LockClient client;
    private final Keys keys;
    private final String group;
    private final String prefix;

    private GroupMembership(LockClient client, String group) {
        this.client = client;
        this.keys = client.keys();
        this.group = Names.check(group);
        this.prefix = group + "/";
    }

    /**
     * The group {@code group} as {@code client} sees it; creating it touches nothing.
     *
     * @throws io.holdfast.UnsupportedFeatureException without {@link Capability#KEYS}
     * @throws InvalidArgumentException for a bad group name
     */
    public static GroupMembership of(LockClient client, String group) {
        if (client == null) {
            throw new InvalidArgumentException("the client must not be null");
        }
        return new GroupMembership(client, group);
    }

    /** The group's name: its members are the keys under {@code <group>/}. */
    public String group() {
        return group;
    }

    /**
     * Joins the group as {@code member} with {@code value}, attached to the client's session; joined
     * already (by this session), writes the new value.
     *
     * @return the member's key as written
     * @throws ConflictException when another live session holds the member name; nothing changed
     * @throws InvalidArgumentException for a member name with a {@code /}, or a value too large
     * @throws io.holdfast.UnsupportedFeatureException without {@link Capability#SESSION_KEYS}
     */
    public KeyEntry join(String member, byte[] value) {
        String key = key(member);
        while (true) {
            Optional<KeyEntry> now = keys.get(key);
            if (now.isEmpty()) {
                try {
                    return keys.put(key, value, PutOptions.ifAbsent().attach());
                } catch (ConflictException e) {
                    continue; // another session joined as this member since the read: read again
                }
            }
            KeyEntry held = now.get();
            if (!client.sessionId().equals(held.owner())) {
                throw new ConflictException(
                        "member " + member + " of group " + group + " is held by session " + held.owner(),
                        held.version());
            }
            try {
                return keys.put(key, value, PutOptions.ifVersion(held.version()).attach());
            } catch (ConflictException e) {
                // changed since the read (the session ended, or it left): read again
            }
        }
    }

    /**
     * Leaves the group as {@code member}, if this session holds it.
     *
     * @return whether this session was that member
     */
    public boolean leave(String member) {
        String key = key(member);
        Optional<KeyEntry> now = keys.get(key);
        if (now.isEmpty() || !client.sessionId().equals(now.get().owner())) {
            return false;
        }
        try {
            keys.delete(key, now.get().version());
            return true;
        } catch (ConflictException e) {
            return false; // written or deleted since the read: no longer this session's
        }
    }

    /** The live members now, by name, read at the leader page by page. */
    public SortedMap<String, KeyEntry> members() {
        TreeMap<String, KeyEntry> members = new TreeMap<>();
        String after = "";
        while (after != null) {
            KeyListing page = keys.list(prefix, after, Keys.MAX_PAGE);
            page.entries().forEach(e -> members.put(e.key().substring(prefix.length()), e));
            after = page.next();
        }
        return Collections.unmodifiableSortedMap(members);
    }

    /**
     * Follows the group: {@code listener} is told the whole group first, then after each change.
     * Close the watch to stop.
     */
    public Watch watch(Listener listener) {
        if (listener == null) {
            throw new InvalidArgumentException("the listener must not be null");
        }
        return new KeyView(keys, prefix, listener::membersChanged).watch();
    }

    private String key(String member) {
        Names.check(member);
        if (member.contains("/")) {
            throw new InvalidArgumentException("a member name has no '/': " + member);
        }
        return Names.check(prefix + member);
    }
}
