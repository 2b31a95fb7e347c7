package io.holdfast.store;

import io.holdfast.ConflictException;
import io.holdfast.Counters;
import io.holdfast.ExpectedVersions;
import io.holdfast.HoldfastException;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Keys;
import io.holdfast.QuotaExceededException;
import io.holdfast.Txn;
import io.holdfast.TxnResult;
import io.holdfast.UnsupportedFeatureException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The rules of {@link Keys} that do not depend on the store: which keys a {@link Txn} reads,
 * whether a compare of a key holds, an op's expected version, the limit of keys attached to one
 * session, and how a refusal inside a transaction is named (a counter's arithmetic is the API's
 * {@link Counters}, a version conflict's words its {@link ExpectedVersions}). A provider that
 * evaluates transactions in Java on what it read from its store applies them through {@link
 * KeyPlay}, so that every such provider refuses the same things with the same messages; a conflict
 * and the limit of keys per session are worded as the server words them.
 *
 * <p>Guarantees: every method is pure (no I/O, no state of its own) and refuses with the API's
 * typed exceptions ({@link ConflictException}, {@link InvalidArgumentException}, {@link
 * QuotaExceededException}, {@link UnsupportedFeatureException}), so a caller that applies the rules
 * before it writes changes nothing when one refuses. Does not: read or write a store, or evaluate
 * the compares that need one ({@link Txn.Compare.Fence}, {@link Txn.Compare.Holder}, {@link
 * Txn.Compare.SessionAlive}).
 */
public final class KeyRules {
    private KeyRules() {}

    /** The key a compare reads ({@link Txn.Compare.Version}, {@link Txn.Compare.Value}, {@link Txn.Compare.Absent}); null for the others. */
    public static String keyOf(Txn.Compare compare) {
        if (compare instanceof Txn.Compare.Version v) {
            return v.key();
        } else if (compare instanceof Txn.Compare.Value v) {
            return v.key();
        } else if (compare instanceof Txn.Compare.Absent a) {
            return a.key();
        }
        return null;
    }

    /** Every key that {@code txn}'s compares and ops (of both branches) name, each once, in the order first named. */
    public static List<String> keysNamed(Txn txn) {
        Set<String> names = new LinkedHashSet<>();
        for (Txn.Compare c : txn.compares()) {
            String key = keyOf(c);
            if (key != null) {
                names.add(key);
            }
        }
        txn.then().forEach(op -> names.add(op.key()));
        txn.otherwise().forEach(op -> names.add(op.key()));
        return new ArrayList<>(names);
    }

    /**
     * Refuses a transaction that compares a lock's holder or a session's liveness, for a provider
     * that cannot hold either to the point its transaction commits at.
     *
     * @param provider the provider's name ("etcd")
     * @param why why it cannot, named in the message after a colon
     * @throws UnsupportedFeatureException naming the first such compare
     */
    public static void refuseSessionCompares(Txn txn, String provider, String why) {
        for (Txn.Compare c : txn.compares()) {
            if (c instanceof Txn.Compare.Holder || c instanceof Txn.Compare.SessionAlive) {
                throw new UnsupportedFeatureException("the " + provider + " provider cannot compare "
                        + (c instanceof Txn.Compare.Holder ? "a lock's holder" : "a session's liveness")
                        + " in a transaction: " + why);
            }
        }
    }

    /**
     * Whether a compare of a key holds for the key as read.
     *
     * @param version the key's version; 0 when it is absent
     * @param value the key's value; null when it is absent
     * @throws IllegalArgumentException for a compare that reads no key ({@link #keyOf} null)
     */
    public static boolean holds(Txn.Compare compare, long version, byte[] value) {
        if (compare instanceof Txn.Compare.Version v) {
            return switch (v.order()) {
                case EQUAL -> version == v.version();
                case NOT_EQUAL -> version != v.version();
                case LESS -> version < v.version();
                case GREATER -> version > v.version();
            };
        } else if (compare instanceof Txn.Compare.Value v) {
            return value != null && Arrays.equals(value, v.value());
        } else if (compare instanceof Txn.Compare.Absent) {
            return version == 0;
        }
        throw new IllegalArgumentException("a compare that reads no key: " + compare);
    }

    /**
     * Refuses an op whose expected version is not the key's ({@link ExpectedVersions#check}).
     *
     * @param expected the op's expected version, or {@link Keys#ANY_VERSION}
     * @param version the key's version; 0 when it is absent
     * @throws ConflictException "K is at version V, not E", carrying V, in {@link
     *     ExpectedVersions}'s words
     */
    public static void expect(String key, long expected, long version) {
        ExpectedVersions.check(key, expected, version);
    }

    /**
     * A count the provider keeps beside the keys (of the keys attached to a session), as a
     * counter's bytes ({@link Counters#encode}); 0 for null (absent) or anything else than a
     * counter's bytes.
     */
    public static long counterOf(byte[] value) {
        return value == null || value.length != Counters.BYTES ? 0 : Counters.decode("a count", value);
    }

    /**
     * Refuses one more key attached to a session that has {@code has} already.
     *
     * @param limit the most keys attached to one session ({@link Keys#MAX_KEYS_PER_SESSION})
     * @throws QuotaExceededException "session S owns N keys; the limit keys-per-session is L", as
     *     the server says it
     */
    public static void attachOne(String session, long has, int limit) {
        if (has >= limit) {
            throw new QuotaExceededException(
                    "session " + session + " owns " + has + " keys; the limit keys-per-session is " + limit);
        }
    }

    /** An op applied to what the caller read: its result, or a refusal thrown. */
    @FunctionalInterface
    public interface Apply<E extends Exception> {
        TxnResult.OpResult apply(Txn.Op op) throws E;
    }

    /**
     * Applies the ops of the branch that runs, in order, and answers which ran and each op's result.
     *
     * @param holds whether every compare held: {@link Txn#then()} runs, else {@link Txn#otherwise()}
     * @param labelled whether a refusal names its branch and op ({@link #label}, {@link #named})
     * @throws E what {@code apply} throws, the first refusal of the branch
     */
    public static <E extends Exception> TxnResult branch(Txn txn, boolean holds, boolean labelled, Apply<E> apply)
            throws E {
        List<Txn.Op> ops = holds ? txn.then() : txn.otherwise();
        List<TxnResult.OpResult> results = new ArrayList<>(ops.size());
        for (int i = 0; i < ops.size(); i++) {
            try {
                results.add(apply.apply(ops.get(i)));
            } catch (HoldfastException refused) {
                throw labelled ? named(refused, label(holds, i)) : refused;
            }
        }
        return new TxnResult(holds, results);
    }

    /** What names op {@code index} (from 0) of the branch that ran in a refusal: {@code "then op 2: "}, {@code "else op 1: "}. */
    public static String label(boolean then, int index) {
        return (then ? "then" : "else") + " op " + (index + 1) + ": ";
    }

    /**
     * The same refusal, its message after {@code label}: a conflict keeps its current version. A
     * refusal of another type is answered as it is.
     */
    public static RuntimeException named(RuntimeException refused, String label) {
        String message = label + refused.getMessage();
        if (refused instanceof ConflictException conflict) {
            return new ConflictException(message, conflict.currentVersion());
        } else if (refused instanceof QuotaExceededException) {
            return new QuotaExceededException(message);
        } else if (refused instanceof InvalidArgumentException) {
            return new InvalidArgumentException(message, refused);
        }
        return refused;
    }
}
