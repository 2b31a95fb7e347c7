package io.holdfast.core;

import io.holdfast.InvalidArgumentException;
import io.holdfast.model.Command;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How much one identity, session or lock may hold in {@link LockTable}, and the table as a whole:
 * each quota is refused with {@link io.holdfast.ErrorCode#QUOTA_EXCEEDED} when a request would go
 * past it, naming the quota. The quotas in force are replicated state: the access rules' {@code
 * limit} lines while access control is on ({@link AccessRules#quotas()}), else the quotas the
 * leader set from its {@code --limit} options ({@link Command.SetQuotas}), the {@link #DEFAULTS}
 * until it does.
 *
 * <p>Guarantees: every value is from 1 to its most ({@link Integer#MAX_VALUE}; 2^40 for {@code
 * register-bytes}) when made by {@link #of(Map, String)} or a {@code limit} line, which refuse
 * anything else in one line naming the quota. Not guaranteed: that lowering a quota takes anything
 * away; it refuses new requests only. Failure story: a fleet of unauthenticated clients shares one
 * identity, so its 10,001st session is refused under the default {@code sessions-per-identity}
 * until the leader's options raise it.
 *
 * @param sessionsPerIdentity open sessions of one identity (all unauthenticated clients share one)
 * @param holdsPerSession grants one session holds at once
 * @param waitsPerSession queued acquires of one session
 * @param waitersPerLock queued acquires of one lock or semaphore
 * @param stateEntries sessions, locks with a holder or waiter, and registers, together
 * @param registerBytes the bytes of every register value, together
 */
public record Quotas(
        int sessionsPerIdentity,
        int holdsPerSession,
        int waitsPerSession,
        int waitersPerLock,
        int stateEntries,
        long registerBytes) {
    public static final Quotas DEFAULTS = new Quotas(10_000, 10_000, 1_000, 10_000, 1_000_000, 256L << 20);

    static final List<String> NAMES = List.of(
            "sessions-per-identity",
            "holds-per-session",
            "waits-per-session",
            "waiters-per-lock",
            "state-entries",
            "register-bytes");

    long get(int i) {
        return switch (i) {
            case 0 -> sessionsPerIdentity;
            case 1 -> holdsPerSession;
            case 2 -> waitsPerSession;
            case 3 -> waitersPerLock;
            case 4 -> stateEntries;
            default -> registerBytes;
        };
    }

    static Quotas of(long[] v) {
        return new Quotas((int) v[0], (int) v[1], (int) v[2], (int) v[3], (int) v[4], v[5]);
    }

    /**
     * The defaults with each named quota set to its value, as {@code limit} lines set them.
     *
     * @param where what the one-line message of a refusal begins with (where the values came from)
     * @throws InvalidArgumentException naming an unknown quota, or a value that is not a number
     *     from 1 to the quota's most (2147483647; 2^40 for {@code register-bytes})
     */
    public static Quotas of(Map<String, ?> values, String where) {
        long[] v = DEFAULTS.values();
        values.forEach((name, value) -> v[index(name, where)] = value(name, String.valueOf(value), where));
        return of(v);
    }

    /** Every quota by name, in the order of the names. */
    public Map<String, Long> byName() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (int i = 0; i < NAMES.size(); i++) {
            out.put(NAMES.get(i), get(i));
        }
        return out;
    }

    /** The quotas that differ from the defaults, by name: what {@link #of} makes these from. */
    public Map<String, Long> changed() {
        Map<String, Long> out = byName();
        out.entrySet().removeIf(e -> e.getValue() == DEFAULTS.get(NAMES.indexOf(e.getKey())));
        return out;
    }

    long[] values() {
        long[] v = new long[NAMES.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = get(i);
        }
        return v;
    }

    static int index(String name, String where) {
        int q = NAMES.indexOf(name);
        if (q < 0) {
            throw new InvalidArgumentException(
                    where + "unknown quota " + name + "; known: " + String.join(", ", NAMES));
        }
        return q;
    }

    static long value(String name, String text, String where) {
        long value;
        try {
            value = Long.parseLong(text);
        } catch (NumberFormatException e) {
            value = -1;
        }
        long max = index(name, where) == NAMES.size() - 1 ? (1L << 40) : Integer.MAX_VALUE;
        if (value < 1 || value > max) {
            throw new InvalidArgumentException(
                    where + "quota " + name + " must be a number from 1 to " + max + ", not " + text);
        }
        return value;
    }
}
