package io.holdfast.verify.check;

import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Record;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks that nothing acknowledged is lost.
 *
 * <ul>
 *   <li>Tokens never go backwards: for two ACQUIRE OKs a and b on any keys, if a's OK came before b
 *       was invoked, b's token is larger (one counter for all names, across leader changes and
 *       restarts).
 *   <li>Acknowledged writes survive: a final-phase REG_GET OK sees at least the highest version any
 *       REG_CAS OK produced on that register.
 * </ul>
 *
 * <p>A run with neither acquires nor register operations is SKIPPED.
 */
public final class DataChecker implements Checker {
    @Override
    public String name() {
        return "data";
    }

    @Override
    public CheckResult check(List<Record> records) {
        long origin = Times.origin(records);
        List<String> violations = new ArrayList<>();
        List<Operation> ops = Operation.pair(records);
        List<Operation> grants = new ArrayList<>();
        for (Operation o : ops) {
            if (o.invoke().f() == Op.Fn.ACQUIRE && o.ok()) {
                grants.add(o);
            }
        }
        List<Operation> byEnd = new ArrayList<>(grants);
        byEnd.sort(Comparator.comparingLong(Operation::end));
        List<Operation> byStart = new ArrayList<>(grants);
        byStart.sort(Comparator.comparingLong(o -> o.invoke().time()));
        Operation highest = null;
        int next = 0;
        for (Operation b : byStart) {
            while (next < byEnd.size() && byEnd.get(next).end() < b.invoke().time()) {
                Operation a = byEnd.get(next++);
                if (highest == null
                        || a.completion().token() > highest.completion().token()) {
                    highest = a;
                }
            }
            if (highest != null
                    && b.completion().token() <= highest.completion().token()) {
                violations.add("token went backwards: " + b.invoke().id() + " got token "
                        + b.completion().token()
                        + " on " + b.key() + " (invoked " + Times.at(b.invoke().time(), origin) + ") after "
                        + highest.invoke().id() + " had got token "
                        + highest.completion().token() + " on "
                        + highest.key() + " (OK " + Times.at(highest.end(), origin) + ")");
            }
        }
        Map<String, Operation> highestWrite = new HashMap<>();
        long casOks = 0;
        for (Operation o : ops) {
            if (o.invoke().f() == Op.Fn.REG_CAS && o.ok()) {
                casOks++;
                Operation h = highestWrite.get(o.key());
                if (h == null || o.completion().newVersion() > h.completion().newVersion()) {
                    highestWrite.put(o.key(), o);
                }
            }
        }
        long finalReads = 0;
        for (Operation o : ops) {
            if (o.invoke().f() != Op.Fn.REG_GET
                    || !o.ok()
                    || !LivenessChecker.FINAL_PHASE.equals(o.invoke().phase())) {
                continue;
            }
            finalReads++;
            Operation h = highestWrite.get(o.key());
            if (h != null && o.completion().version() < h.completion().newVersion()) {
                violations.add(o.key() + ": final read " + o.invoke().id() + " at " + Times.at(o.end(), origin)
                        + " saw version " + o.completion().version() + ", but "
                        + h.invoke().id()
                        + "'s compare-and-set was acknowledged with version "
                        + h.completion().newVersion() + " at "
                        + Times.at(h.end(), origin) + " (an acknowledged write was lost)");
            }
        }
        Map<String, Long> counts = Map.of("grants", (long) grants.size(), "cas ok", casOks, "final reads", finalReads);
        if (!violations.isEmpty()) {
            return new CheckResult(name(), CheckResult.Status.FAIL, violations, counts, "");
        }
        if (grants.isEmpty() && casOks == 0 && finalReads == 0) {
            return new CheckResult(
                    name(), CheckResult.Status.SKIPPED, List.of(), counts, "no grants or register writes");
        }
        return new CheckResult(name(), CheckResult.Status.PASS, List.of(), counts, "");
    }
}
