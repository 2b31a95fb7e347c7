package io.holdfast.verify.check;

import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.KeyValue;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Record;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Checks, per key, that the operations on it have a legal sequential order that respects real time
 * (each takes effect at one point between its invoke and its completion), against a small model of
 * the key, chosen by the kind its operations name: {@link LockModel} (LOCK), {@link
 * ReadWriteLockModel} (READ and WRITE), {@link SemaphoreModel} (permits per holder, limit from the
 * operation), {@link RegisterModel} (register reads and writes) or {@link KeysModel} (key reads,
 * listings and transactions, one group of keys as one object: a transaction is one step); the
 * models hold the rules. A group of keys with keys attached to a session is left to {@link
 * KeysChecker}, and a transaction whose keys lie in two groups makes its group inconclusive. The search,
 * {@link Search}, is Wing and Gong's with Lowe's just-in-time linearization and memoized (state,
 * linearized set) pairs, as Porcupine does it, and knows nothing of locks; the hold models accept
 * unknown outcomes in one canonical order ({@link HoldModel}), which keeps the histories of
 * majority kills, hundreds of unknown outcomes, within the budget.
 *
 * <p>A key whose search explores more than the budget of states is INCONCLUSIVE, never a pass, and
 * so is a key whose operations name kinds of more than one model.
 * A FAIL names the key, the operation that could not be placed at the deepest point the search
 * reached, and the window of operations still open there. A foreign release answered {@code Released} is a
 * violation on its own.
 */
public final class LinearizabilityChecker implements Checker {
    /** States a key's search may explore before it gives up (INCONCLUSIVE). */
    public static final long DEFAULT_BUDGET = 2_000_000;

    private final long budget;

    public LinearizabilityChecker() {
        this(DEFAULT_BUDGET);
    }

    /** @param budget states each key's search may explore before it is reported INCONCLUSIVE */
    public LinearizabilityChecker(long budget) {
        if (budget <= 0) {
            throw new IllegalArgumentException("budget must be positive");
        }
        this.budget = budget;
    }

    @Override
    public String name() {
        return "linearizability";
    }

    @Override
    public CheckResult check(List<Record> records) {
        long origin = Times.origin(records);
        List<String> violations = new ArrayList<>();
        List<String> inconclusive = new ArrayList<>();
        List<String> unmodelled = new ArrayList<>();
        long attached = 0;
        Map<String, List<Operation>> byKey = new TreeMap<>();
        for (Operation o : Operation.pair(records)) {
            if (o.call() instanceof Call.ForeignRelease release) {
                if (o.ok()) {
                    violations.add(o.key() + ": the service accepted a release by "
                            + o.process() + ", which does not hold it, of token "
                            + release.token() + ": " + o.describe(origin));
                }
                continue;
            }
            if (o.key() == null) {
                continue;
            }
            byKey.computeIfAbsent(o.key(), k -> new ArrayList<>()).add(o);
        }
        long explored = 0;
        long ops = 0;
        long passed = 0;
        for (Map.Entry<String, List<Operation>> e : byKey.entrySet()) {
            Set<Op.Kind> kinds = EnumSet.noneOf(Op.Kind.class);
            e.getValue().forEach(o -> kinds.add(kindOf(o)));
            if (kinds.contains(Op.Kind.KEYS) && KeysModel.hasAttached(e.getValue())) {
                attached++;
                continue;
            }
            String across = acrossGroups(e.getValue());
            if (across != null) {
                unmodelled.add(e.getKey() + " (a transaction across groups of keys: " + across + ")");
                continue;
            }
            Model<?> model = modelOf(kinds);
            if (model == null) {
                unmodelled.add(e.getKey() + " (operations of kinds " + kinds + ")");
                continue;
            }
            Search<?> search = new Search<>(e.getKey(), model, e.getValue(), budget, origin);
            Search.Outcome out = search.run();
            explored += search.explored();
            ops += search.size();
            switch (out) {
                case LINEARIZABLE -> passed++;
                case NOT_LINEARIZABLE -> violations.add(search.report());
                case GAVE_UP ->
                    inconclusive.add(
                            e.getKey() + " (" + search.explored() + " states, " + search.size() + " operations)");
            }
        }
        Map<String, Long> counts = Map.of(
                "keys", (long) byKey.size(),
                "key groups left to the keys checker", attached,
                "keys linearizable", passed,
                "keys inconclusive", (long) inconclusive.size() + unmodelled.size(),
                "operations", ops,
                "states explored", explored);
        List<String> details = new ArrayList<>();
        if (!inconclusive.isEmpty()) {
            details.add("search budget of " + budget + " states exhausted for " + String.join(", ", inconclusive));
        }
        if (!unmodelled.isEmpty()) {
            details.add("no one model for " + String.join(", ", unmodelled));
        }
        inconclusive.addAll(unmodelled);
        String detail = String.join("; ", details);
        if (!violations.isEmpty()) {
            return new CheckResult(name(), CheckResult.Status.FAIL, violations, counts, detail);
        }
        if (!inconclusive.isEmpty()) {
            return new CheckResult(name(), CheckResult.Status.INCONCLUSIVE, List.of(), counts, detail);
        }
        if (byKey.isEmpty()) {
            return new CheckResult(name(), CheckResult.Status.SKIPPED, List.of(), counts, "no operations on keys");
        }
        return new CheckResult(name(), CheckResult.Status.PASS, List.of(), counts, detail);
    }

    private static Op.Kind kindOf(Operation o) {
        if (o.call() instanceof Call.OnKeys) {
            return Op.Kind.KEYS;
        }
        return o.target() != null ? o.target().kind() : Op.Kind.REGISTER;
    }

    /** The first transaction of {@code ops} that names keys of two groups, described; else null. */
    private static String acrossGroups(List<Operation> ops) {
        for (Operation o : ops) {
            if (o.call() instanceof Call.KeyTxn t
                    && t.keys().stream().map(KeyValue::space).distinct().count() > 1) {
                return o.id() + " " + t.keys();
            }
        }
        return null;
    }

    /** The model of a key whose operations name {@code kinds}, or null when no one model covers them. */
    private static Model<?> modelOf(Set<Op.Kind> kinds) {
        if (kinds.equals(EnumSet.of(Op.Kind.LOCK))) {
            return new LockModel();
        }
        if (EnumSet.of(Op.Kind.READ, Op.Kind.WRITE).containsAll(kinds)) {
            return new ReadWriteLockModel();
        }
        if (kinds.equals(EnumSet.of(Op.Kind.SEMAPHORE))) {
            return new SemaphoreModel();
        }
        if (kinds.equals(EnumSet.of(Op.Kind.REGISTER))) {
            return new RegisterModel();
        }
        if (kinds.equals(EnumSet.of(Op.Kind.KEYS))) {
            return new KeysModel();
        }
        return null;
    }
}
