package io.holdfast.core;

import java.util.ArrayList;
import java.util.List;

/**
 * Sessions by id in one array (open addressing, linear probing), without a node per entry: each
 * costs its slot (4 to 8 bytes at the load kept here) where a {@code HashMap} cost a node and its
 * slot (about 40 bytes). The table's sessions on every replica, and the leader's heartbeat
 * deadlines ({@link SessionTracker}).
 *
 * <p><b>Guarantees.</b> {@link #get} finds a session by its id's text, whether the session keeps
 * its id as bits ({@link CompactId}) or as text; at most one session per id ({@link #add} refuses
 * a second). <b>Not guaranteed:</b> any order of {@link #all} (it is the slots' order, which
 * depends on the history of adds and removes, and on this process's hash seed): callers that need
 * one sort. <b>Failure story:</b> with a fixed hash, ids chosen by a client so that their hashes
 * share low bits would make one run of slots as long as the sessions, and every lookup walk it;
 * the seed, drawn once per process, keeps a client from knowing which ids collide.
 *
 * <p>Not thread-safe, lookups included (they keep what they parsed and found): the table's owner
 * serialises access.
 */
final class SessionIndex<T extends SessionIndex.Keyed> {
    /** What the index keeps: a session's id, as bits or as text. */
    interface Keyed {
        /** The id's bits ({@link CompactId}); both 0 when the id does not fit and is kept as text. */
        long idHigh();

        long idLow();

        /** The id's text (called only for an id kept as text). */
        String idText();

        default boolean compactId() {
            return (idHigh() | idLow()) != 0;
        }
    }

    /** The process's seed for tables of session ids (the lock table draws no random numbers itself). */
    private static final long SEED = io.holdfast.model.SessionIds.HASH_SEED;

    private static final int FIRST = 16;

    private Keyed[] slots = new Keyed[FIRST];
    private int size;
    /** A lookup's parsed id (one pass, no allocation): the table is used by one thread at a time. */
    private final long[] parsed = new long[2];
    /**
     * The last id looked up and what it found: the commands of an entry look their session up
     * several times with one string (its reply memory, then the command itself). Cleared by every
     * add and remove.
     */
    private String lastId;

    private T lastFound;

    /** The session with this id, or null (also for a null id). */
    T get(String id) {
        if (id == null) {
            return null;
        }
        if (id == lastId) {
            return lastFound;
        }
        T found = CompactId.parse(id, parsed) ? find(parsed[0], parsed[1]) : findText(id);
        lastId = id;
        lastFound = found;
        return found;
    }

    /** Whether this very session is here. */
    boolean contains(T session) {
        if (session == lastFound) {
            return true; // found since the last add or remove
        }
        return find(session) == session;
    }

    private T find(Keyed key) {
        return key.compactId() ? find(key.idHigh(), key.idLow()) : findText(key.idText());
    }

    @SuppressWarnings("unchecked")
    private T find(long high, long low) {
        Keyed[] s = slots;
        int mask = s.length - 1;
        for (int i = hash(high, low) & mask; s[i] != null; i = (i + 1) & mask) {
            if (s[i].idHigh() == high && s[i].idLow() == low) {
                return (T) s[i];
            }
        }
        return null;
    }

    @SuppressWarnings("unchecked")
    private T findText(String id) {
        Keyed[] s = slots;
        int mask = s.length - 1;
        for (int i = hash(id) & mask; s[i] != null; i = (i + 1) & mask) {
            if (!s[i].compactId() && s[i].idText().equals(id)) {
                return (T) s[i];
            }
        }
        return null;
    }

    /** Adds a session; false (and nothing added) if one with its id is here. */
    boolean add(T session) {
        if (find(session) != null) {
            return false;
        }
        lastId = null;
        lastFound = null;
        if ((size + 1) * 4L > slots.length * 3L) {
            grow();
        }
        place(slots, session);
        size++;
        return true;
    }

    /** Removes this session, if it is here. */
    void remove(T session) {
        Keyed[] s = slots;
        int mask = s.length - 1;
        int i = hash(session) & mask;
        while (s[i] != session) {
            if (s[i] == null) {
                return;
            }
            i = (i + 1) & mask;
        }
        lastId = null;
        lastFound = null;
        // Backward shift: move later members of the run into the hole when their home allows.
        int hole = i;
        s[hole] = null;
        for (int j = (hole + 1) & mask; s[j] != null; j = (j + 1) & mask) {
            int home = hash(s[j]) & mask;
            if (((j - home) & mask) >= ((j - hole) & mask)) {
                s[hole] = s[j];
                s[j] = null;
                hole = j;
            }
        }
        size--;
    }

    int size() {
        return size;
    }

    /** Every session, in no particular order (a copy). */
    @SuppressWarnings("unchecked")
    List<T> all() {
        List<T> out = new ArrayList<>(size);
        for (Keyed s : slots) {
            if (s != null) {
                out.add((T) s);
            }
        }
        return out;
    }

    /** Forgets every session. */
    void clear() {
        java.util.Arrays.fill(slots, null);
        size = 0;
        lastId = null;
        lastFound = null;
    }

    private void grow() {
        Keyed[] bigger = new Keyed[slots.length * 2];
        for (Keyed s : slots) {
            if (s != null) {
                place(bigger, s);
            }
        }
        slots = bigger;
    }

    private static void place(Keyed[] s, Keyed session) {
        int mask = s.length - 1;
        int i = hash(session) & mask;
        while (s[i] != null) {
            i = (i + 1) & mask;
        }
        s[i] = session;
    }

    private static int hash(Keyed s) {
        return s.compactId() ? hash(s.idHigh(), s.idLow()) : hash(s.idText());
    }

    /** The seed enters before the halves are combined: which ids collide depends on it. */
    private static int hash(long high, long low) {
        return (int) mix(mix(high ^ SEED) + low);
    }

    /** Four characters a step, the seed in every step: ids whose texts collide without it do not with it. */
    private static int hash(String id) {
        long h = SEED ^ id.length();
        int n = id.length();
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            long four = id.charAt(i)
                    | (long) id.charAt(i + 1) << 16
                    | (long) id.charAt(i + 2) << 32
                    | (long) id.charAt(i + 3) << 48;
            h = (h ^ four) * 0x9E3779B97F4A7C15L;
            h ^= h >>> 29;
        }
        for (; i < n; i++) {
            h = (h ^ id.charAt(i)) * 0x9E3779B97F4A7C15L;
            h ^= h >>> 29;
        }
        return (int) mix(h);
    }

    /** A bijective 64-bit finaliser (SplitMix64's). */
    private static long mix(long h) {
        h = (h ^ (h >>> 30)) * 0xBF58476D1CE4E5B9L;
        h = (h ^ (h >>> 27)) * 0x94D049BB133111EBL;
        return h ^ (h >>> 31);
    }
}
