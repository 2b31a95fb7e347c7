package io.holdfast.store;

import io.holdfast.ConflictException;
import io.holdfast.Counters;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Keys;
import io.holdfast.PutOptions;
import io.holdfast.QuotaExceededException;
import io.holdfast.Txn;
import io.holdfast.TxnResult;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * A {@link Txn} played on a copy of what a provider read from its store, by {@link KeyRules}: its
 * compares evaluated, the branch chosen, and that branch's ops applied in order, each with its
 * expected version checked and its result answered; what it leaves is each written key's final
 * state ({@link #written()}) and how many keys each session gains or loses ({@link
 * #attachedChanges()}). The provider says how a written key is stored ({@link Writes}), then writes
 * both in one step of its store, on condition that nothing it read (the keys and the counts of
 * attached keys) has changed since; if something has, it plays the transaction again on a new read.
 * (A provider that locks what it reads until it writes, as a database does, plays once on the
 * locked rows and writes them back.)
 *
 * <p><b>The limit of keys per session</b> is checked op by op, as the server checks it: an op that
 * attaches a key to this client's session when the session already owns {@link Attached#limit()}
 * keys is refused with {@link QuotaExceededException}; a delete or detach earlier in the branch
 * makes room, and writing a key that is attached already does not count again. The count is the
 * store's ({@link Attached#count()}), read with the keys (or under their locks), so two writers of
 * one session cannot both take the last place: the second one's condition fails and it plays again
 * on the new count (or it waits for the first one's locks).
 *
 * <p>Guarantees: a refused op throws (the first one, named {@code "then op 2: ..."} when the caller
 * asks for labels) and the caller writes nothing. No I/O of its own (the count of attached keys is
 * the caller's, {@link Attached#count()}). Not thread-safe: one per round of one call.
 *
 * @param <K> the store's record of a key
 */
public final class KeyPlay<K extends KeyPlay.Stored> {
    /** A key as a store keeps it: what the rules read of it. */
    public interface Stored {
        String key();

        /** 1 at its first write after it was absent, one more with each write. */
        long version();

        byte[] value();

        /**
         * What the key is attached to, as the store names a session (an etcd lease, a ZooKeeper
         * session); 0 when it is not attached.
         */
        long attachment();
    }

    /** How a provider stores a written key. */
    public interface Writes<K> {
        /**
         * The key after {@code put}, which names its lifetime ({@link PutOptions.Lifetime#ATTACH}
         * or {@link PutOptions.Lifetime#DETACH}), made it {@code version}; a put that keeps the
         * key's lifetime is stored by {@link #counted} instead.
         *
         * @param current the key before; null when absent
         * @throws io.holdfast.UnsupportedFeatureException for options the store cannot keep
         */
        K put(Txn.Op.Put put, long version, K current);

        /**
         * The key after an add left the counter {@code value} at {@code version}, or a put that
         * keeps the key's lifetime wrote {@code value}: it lives as {@code current} did (attached
         * to the same session, whichever writes it, or with the same deadline), or until deleted
         * when {@code current} is null (absent).
         */
        K counted(String key, long version, byte[] value, K current);
    }

    /**
     * The keys attached to this client's session, as read with the keys.
     *
     * @param id what this client's keys attach to ({@link Stored#attachment()}); 0 when the call
     *     attaches none
     * @param count how many keys are attached to {@code id} as the store has them (before this
     *     play's writes): read once, when an op first attaches a key, and never when none does
     * @param session the session's id, which a refusal names
     * @param limit the most keys attached to one session: {@link Keys#MAX_KEYS_PER_SESSION}
     */
    public record Attached(long id, LongSupplier count, String session, int limit) {
        /** With the count already read. */
        public Attached(long id, long count, String session, int limit) {
            this(id, () -> count, session, limit);
        }
    }

    private final Map<String, K> state;
    private final Writes<K> writes;
    private final Attached attached;
    private final Map<String, K> written = new LinkedHashMap<>();
    private final Map<Long, Long> changes = new LinkedHashMap<>();
    /** {@link Attached#count()} once read; -1 before. */
    private long count = -1;

    /**
     * @param read every key the transaction names ({@link KeyRules#keysNamed}), null when absent
     */
    public KeyPlay(Map<String, K> read, Writes<K> writes, Attached attached) {
        this.state = new HashMap<>(read);
        this.writes = writes;
        this.attached = attached;
    }

    /**
     * Evaluates the compares on the keys as read, then plays the branch that runs.
     *
     * @param elsewhere whether a compare that reads no key (a fence) holds, as the provider read it
     * @param labelled whether a refusal names its branch and op ("then op 2: ...")
     * @return which branch ran and each op's result
     * @throws ConflictException when an op's expected version is not the key's
     * @throws InvalidArgumentException when an add meets a key that is not a counter, or overflows
     *     ({@link Counters})
     * @throws QuotaExceededException when an op would attach one key too many to the session
     */
    public TxnResult run(Txn txn, Predicate<Txn.Compare> elsewhere, boolean labelled) {
        boolean holds = true;
        for (Txn.Compare c : txn.compares()) {
            String key = KeyRules.keyOf(c);
            if (key == null) {
                holds &= elsewhere.test(c);
            } else {
                K k = state.get(key);
                holds &= KeyRules.holds(c, k == null ? 0 : k.version(), k == null ? null : k.value());
            }
        }
        return KeyRules.branch(txn, holds, labelled, this::apply);
    }

    private TxnResult.OpResult apply(Txn.Op op) {
        K cur = state.get(op.key());
        long version = cur == null ? 0 : cur.version();
        if (op instanceof Txn.Op.Put p) {
            KeyRules.expect(p.key(), p.options().expectedVersion(), version);
            set(
                    p.key(),
                    cur,
                    p.options().lifetime() == PutOptions.Lifetime.KEEP
                            ? writes.counted(p.key(), version + 1, p.value(), cur)
                            : writes.put(p, version + 1, cur));
            return new TxnResult.OpResult(version + 1, null, 0);
        } else if (op instanceof Txn.Op.Delete d) {
            KeyRules.expect(d.key(), d.expectedVersion(), version);
            set(d.key(), cur, null);
            return new TxnResult.OpResult(version, null, 0);
        } else if (op instanceof Txn.Op.Add a) {
            long sum = Counters.add(a.key(), cur == null ? null : cur.value(), a.delta());
            set(a.key(), cur, writes.counted(a.key(), version + 1, Counters.encode(sum), cur));
            return new TxnResult.OpResult(version + 1, null, sum);
        }
        return new TxnResult.OpResult(version, cur == null ? null : cur.value(), 0);
    }

    private void set(String key, K cur, K next) {
        long was = cur == null ? 0 : cur.attachment();
        long is = next == null ? 0 : next.attachment();
        if (was != is) {
            if (is != 0 && is == attached.id()) {
                if (count < 0) {
                    count = attached.count().getAsLong();
                }
                KeyRules.attachOne(attached.session(), count + changes.getOrDefault(is, 0L), attached.limit());
            }
            change(was, -1);
            change(is, 1);
        }
        state.put(key, next);
        written.put(key, next);
    }

    private void change(long attachment, long by) {
        if (attachment != 0) {
            changes.merge(attachment, by, Long::sum);
        }
    }

    /** Each written key's final state, in the order first written; null: deleted. */
    public Map<String, K> written() {
        return Collections.unmodifiableMap(written);
    }

    /** What each attachment ({@link Stored#attachment()}) gains (positive) or loses in keys; none unchanged. */
    public Map<Long, Long> attachedChanges() {
        Map<Long, Long> nonZero = new LinkedHashMap<>();
        changes.forEach((id, by) -> {
            if (by != 0) {
                nonZero.put(id, by);
            }
        });
        return nonZero;
    }
}
