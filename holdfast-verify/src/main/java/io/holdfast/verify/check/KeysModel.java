package io.holdfast.verify.check;

import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.KeyValue;
import io.holdfast.verify.history.Result;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Keys as the service keeps them, one group of keys ({@link KeyValue#space}) at a time: each key
 * absent (version 0) or present with a version, 1 at its first write after it was absent and one
 * more with each write. A transaction is one step.
 *
 * <ul>
 *   <li>{@code KeyGet} and {@code KeyList} answered {@code KeyState}: legal when every key read is
 *       as the state has it (a listing: exactly the keys present under its prefix).
 *   <li>{@code KeyTxn} answered {@code Transacted} that succeeded: legal when every version compare
 *       holds; the puts then take the keys one version up with their values (the versions answered
 *       must be those), and the gets read the result.
 *   <li>{@code KeyTxn} answered {@code Transacted} that did not succeed: legal when its gets read the
 *       state and, without a fence, a version compare fails (with a fence, the fence may be what
 *       failed: the lock is another object; {@link KeysChecker} holds the fences to the locks).
 *   <li>{@code KeyTxn} of unknown outcome: where its compares hold it may run (or never); where one
 *       fails it changes nothing, which is never running.
 *   <li>A refused transaction changed nothing and is left out.
 * </ul>
 *
 * Keys attached to a session vanish in the step that ends the session, with no operation of their
 * own: a group with attached or leased puts, prefix deletes or owned keys read has no such model
 * ({@link #hasAttached}), and {@link KeysChecker} checks those keys.
 */
final class KeysModel implements Model<Map<String, KeyValue>> {
    private final List<Move> moves = new ArrayList<>();

    /**
     * Whether {@code ops} attach keys to a session, lease them to one, delete them by prefix (a
     * step per page, with no operation of each), or read a key some session owns: then this model
     * is not theirs.
     */
    static boolean hasAttached(List<Operation> ops) {
        return ops.stream()
                .anyMatch(o -> (o.call() instanceof Call.KeyTxn t && t.attached())
                        || o.call() instanceof Call.KeyPut
                        || o.call() instanceof Call.KeyDeletePrefix
                        || (o.result() instanceof Result.KeyState k
                                && k.entries().stream().anyMatch(e -> e.owner() != null)));
    }

    @Override
    public List<Move> moves(List<Operation> ops) {
        for (Operation o : ops) {
            if (!(o.call() instanceof Call.OnKeys)) {
                continue;
            }
            if (o.ok()) {
                moves.add(Move.of(o));
            } else if (o.unknown()
                    && o.call() instanceof Call.KeyTxn t
                    && !t.puts().isEmpty()) {
                moves.add(Move.maybe(o));
            }
        }
        return moves;
    }

    @Override
    public Map<String, KeyValue> init() {
        return Collections.emptySortedMap();
    }

    @Override
    public Map<String, KeyValue> step(Map<String, KeyValue> state, int move) {
        Operation o = moves.get(move).source();
        Call call = o.call();
        if (call instanceof Call.KeyGet g) {
            List<KeyValue> seen = ((Result.KeyState) o.result()).entries();
            return seen.size() == 1
                            && same(state, seen.get(0))
                            && seen.get(0).key().equals(g.name())
                    ? state
                    : null;
        }
        if (call instanceof Call.KeyList l) {
            List<KeyValue> present = new ArrayList<>();
            state.forEach((k, v) -> {
                if (k.startsWith(l.prefix())) {
                    present.add(v);
                }
            });
            return present.equals(((Result.KeyState) o.result()).entries()) ? state : null;
        }
        Call.KeyTxn t = (Call.KeyTxn) call;
        boolean holds = t.compares().stream().allMatch(c -> version(state, c.key()) == c.version());
        if (!(o.result() instanceof Result.Transacted done)) { // unknown: runs where it can
            return holds ? put(state, t, null) : null;
        }
        if (!done.succeeded()) {
            if (holds && t.fenceLock() == null) {
                return null;
            }
            return reads(state, t.gets(), done.entries(), 0) ? state : null;
        }
        return holds ? put(state, t, done.entries()) : null;
    }

    /** The state after {@code t}'s puts, checked against {@code answered} when given; null if they differ. */
    private static Map<String, KeyValue> put(Map<String, KeyValue> state, Call.KeyTxn t, List<KeyValue> answered) {
        SortedMap<String, KeyValue> next = new TreeMap<>(state);
        for (int i = 0; i < t.puts().size(); i++) {
            KeyValue p = t.puts().get(i);
            KeyValue now = new KeyValue(p.key(), version(next, p.key()) + 1, p.value());
            if (answered != null
                    && (answered.size() <= i
                            || !answered.get(i).key().equals(now.key())
                            || answered.get(i).version() != now.version())) {
                return null;
            }
            next.put(p.key(), now);
        }
        if (answered != null && !reads(next, t.gets(), answered, t.puts().size())) {
            return null;
        }
        return Collections.unmodifiableSortedMap(next);
    }

    /** Whether {@code answered}, from index {@code from}, reads {@code keys} as {@code state} has them. */
    private static boolean reads(Map<String, KeyValue> state, List<String> keys, List<KeyValue> answered, int from) {
        if (answered.size() != from + keys.size()) {
            return false;
        }
        for (int i = 0; i < keys.size(); i++) {
            KeyValue seen = answered.get(from + i);
            if (!seen.key().equals(keys.get(i)) || !same(state, seen)) {
                return false;
            }
        }
        return true;
    }

    private static boolean same(Map<String, KeyValue> state, KeyValue seen) {
        KeyValue now = state.get(seen.key());
        return now == null ? seen.isAbsent() : now.equals(seen);
    }

    private static long version(Map<String, KeyValue> state, String key) {
        KeyValue now = state.get(key);
        return now == null ? 0 : now.version();
    }

    @Override
    public String describe(Map<String, KeyValue> state) {
        return state.isEmpty() ? "no keys" : "keys " + state.values();
    }
}
