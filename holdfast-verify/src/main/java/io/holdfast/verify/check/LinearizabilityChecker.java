package io.holdfast.verify.check;

import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Record;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Checks, per key, that the operations on it have a legal sequential order that respects real time
 * (each takes effect at one point between its invoke and its completion), against a small model of
 * the key: an exclusive lock (LOCK), a read-write lock (READ and WRITE), a semaphore (permits per
 * holder, limit from the operation) or a versioned register (REG_GET, REG_CAS). The search is
 * Wing and Gong's with Lowe's just-in-time linearization and memoized (state, linearized set)
 * pairs, as Porcupine does it; see {@link KeySearch} for the rules.
 *
 * <p>A key whose search explores more than the budget of states is INCONCLUSIVE, never a pass.
 * A FAIL names the key, the operation that could not be placed at the deepest point the search
 * reached, and the window of operations still open there. A FOREIGN_RELEASE answered OK is a
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
        Map<String, List<Operation>> byKey = new TreeMap<>();
        for (Operation o : Operation.pair(records)) {
            Op.Fn f = o.invoke().f();
            if (f == Op.Fn.FOREIGN_RELEASE) {
                if (o.ok()) {
                    violations.add(o.key() + ": the service accepted a release by "
                            + o.invoke().process() + ", which does not hold it, of token "
                            + o.invoke().token() + ": " + o.describe(origin));
                }
                continue;
            }
            if (o.key() == null || f == Op.Fn.LOST) {
                continue;
            }
            byKey.computeIfAbsent(o.key(), k -> new ArrayList<>()).add(o);
        }
        long explored = 0;
        long ops = 0;
        long passed = 0;
        for (Map.Entry<String, List<Operation>> e : byKey.entrySet()) {
            KeySearch search = new KeySearch(e.getKey(), e.getValue(), budget, origin);
            KeySearch.Outcome out = search.run();
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
                "keys linearizable", passed,
                "keys inconclusive", (long) inconclusive.size(),
                "operations", ops,
                "states explored", explored);
        String detail = inconclusive.isEmpty()
                ? ""
                : "search budget of " + budget + " states exhausted for " + String.join(", ", inconclusive);
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
}
