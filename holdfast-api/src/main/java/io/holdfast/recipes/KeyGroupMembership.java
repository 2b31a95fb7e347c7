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
import io.holdfast.SessionListener;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.Watch;
import io.holdfast.internal.Backoffs;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@link LockClient#group}: each member is the key {@code <group>/<member>}, attached to its
 * session; the members are a listing of the prefix, and a watch of it ({@link KeyView}).
 *
 * <p>It remembers the members joined through it and not left, with their last values, and joins
 * them again when the client has opened a new session ({@link SessionListener#reestablished}): a
 * name still held by one of this client's lost sessions is this client's, and is joined again at
 * once (the key moves to the new session, compared by version); a name another session holds is
 * given up and the rejoin listeners told.
 */
final class KeyGroupMembership implements GroupMembership, SessionListener {
    private static final io.holdfast.RetryPolicy AGAIN = Backoffs.rejoin();

    private final Recipes recipes;
    private final LockClient client;
    private final Keys keys;
    private final String group;
    private final String prefix;
    /** The members joined through this object and not left, with their last values. */
    private final Map<String, byte[]> joined = new ConcurrentHashMap<>();
    /** This client's sessions that were lost: a name one of them holds is ours, on its way out. */
    private final Set<String> lostSessions = ConcurrentHashMap.newKeySet();

    private final List<RejoinListener> rejoinListeners = new CopyOnWriteArrayList<>();
    private final AtomicBoolean listening = new AtomicBoolean();
    /** One per new session: the rejoins of an older one stop. */
    private final AtomicLong round = new AtomicLong();

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
        KeyEntry entry = joinOnce(member, value);
        joined.put(member, value.clone());
        if (listening.compareAndSet(false, true)) {
            try {
                client.addSessionListener(this);
            } catch (UnsupportedFeatureException e) {
                // a provider that tells no session changes: its members are never joined again
            }
        }
        return entry;
    }

    private KeyEntry joinOnce(String member, byte[] value) {
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
    public void addRejoinListener(RejoinListener listener) {
        if (listener == null) {
            throw new InvalidArgumentException("the rejoin listener must not be null");
        }
        rejoinListeners.add(listener);
    }

    @Override
    public void lost(String oldId, String cause) {
        lostSessions.add(oldId);
    }

    @Override
    public void reestablished(String newId) {
        long now = round.incrementAndGet();
        for (String member : joined.keySet()) {
            recipes.execute(() -> rejoin(member, 1, now));
        }
    }

    /**
     * Joins {@code member} again with its last value under the client's session, by the join rule
     * (a name one of this client's lost sessions holds is its own); tried again later after any
     * failure to read or write the key: the service cannot be reached, the key changed since it
     * was read, the session was lost again, or a refusal that may pass (a quota full for now, an
     * access rule being changed). Stops when the member left, the client closed, a newer session
     * began its own round, or another session holds the name. Every failure is tried again: a
     * rejoin that ended at a failure outside a fixed list (as it did before stop 90) would keep the
     * member out, unseen, until the session after.
     */
    private void rejoin(String member, int attempt, long myRound) {
        byte[] value = joined.get(member);
        if (value == null || round.get() != myRound || !client.isOpen()) {
            return;
        }
        String key = key(member);
        KeyEntry entry;
        String holder;
        try {
            Optional<KeyEntry> now = keys.get(key);
            holder = now.map(KeyEntry::owner).orElse(null);
            // Ours: this session's, or one of this client's lost sessions', which the service still
            // counts alive until that session's TTL has passed (a restarted or new leader starts it
            // afresh), and which this client never uses again: waiting for it would keep the member
            // away for a whole TTL after the service is back.
            if (now.isEmpty() || client.sessionId().equals(holder) || lostSessions.contains(holder)) {
                PutOptions how = now.isEmpty()
                        ? PutOptions.ifAbsent().attach()
                        : PutOptions.ifVersion(now.get().version()).attach();
                entry = keys.put(key, value, how);
            } else {
                entry = null;
            }
        } catch (RuntimeException e) {
            Duration pause = AGAIN.delayBefore(Math.min(attempt, 64), () -> 0.0);
            recipes.schedule(() -> recipes.execute(() -> rejoin(member, attempt + 1, myRound)), pause);
            return;
        }
        if (entry == null) {
            joined.remove(member, value); // another session's, or no session's: never taken over
        }
        for (RejoinListener l : rejoinListeners) {
            try {
                if (entry != null) {
                    l.rejoined(member, entry);
                } else {
                    l.rejoinFailed(member, holder);
                }
            } catch (RuntimeException e) {
                // the listener's own failure: the others are told, and the member stays joined
            }
        }
    }

    @Override
    public boolean leave(String member) {
        joined.remove(member);
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
