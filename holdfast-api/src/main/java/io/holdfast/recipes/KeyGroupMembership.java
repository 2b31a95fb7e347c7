package io.holdfast.recipes;

import io.holdfast.ConflictException;
import io.holdfast.GroupMembership;
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
 * {@link LockClient#group}: each member is the key {@code <group>/<member>}, attached to its
 * session; the members are a listing of the prefix, and a watch of it ({@link KeyView}).
 */
final class KeyGroupMembership implements GroupMembership {
    private final Recipes recipes;
    private final LockClient client;
    private final Keys keys;
    private final String group;
    private final String prefix;

    /**
     * @throws io.holdfast.UnsupportedFeatureException without {@link io.holdfast.Capability#KEYS}
     * @throws InvalidArgumentException for a bad group name
     */
    KeyGroupMembership(Recipes recipes, String group) {
        this.recipes = recipes;
        this.client = recipes.client();
        this.keys = client.keys();
        this.group = Names.check(group);
        this.prefix = group + "/";
    }

    @Override
    public String group() {
        return group;
    }

    @Override
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
                String by = held.owner() == null ? "no session" : "session " + held.owner();
                throw new ConflictException(
                        "member " + member + " of group " + group + " is held by " + by, held.version());
            }
            try {
                return keys.put(key, value, PutOptions.ifVersion(held.version()).attach());
            } catch (ConflictException e) {
                // changed since the read (the session ended, or it left): read again
            }
        }
    }

    @Override
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

    @Override
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

    @Override
    public Watch watch(Listener listener) {
        if (listener == null) {
            throw new InvalidArgumentException("the listener must not be null");
        }
        return new KeyView(recipes, keys, prefix, listener::membersChanged).watch();
    }

    private String key(String member) {
        Names.check(member);
        if (member.contains("/")) {
            throw new InvalidArgumentException("a member name has no '/': " + member);
        }
        return Names.check(prefix + member);
    }

    @Override
    public String toString() {
        return "GroupMembership[" + group + "]";
    }
}
