package io.holdfast.verify.check;

import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.Record;
import io.holdfast.verify.history.Result;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks that nothing acknowledged is lost.
 *
 * <ul>
 *   <li>Tokens never go backwards: for two granted acquires a and b on any keys, if a's OK came before b
 *       was invoked, b's token is larger (one counter for all names, across leader changes and
 *       restarts).
 *   <li>Acknowledged writes survive: a final-phase register read sees at least the highest version
 *       any register write that succeeded produced on that register.
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
            if (o.call() instanceof Call.Acquire && o.result() instanceof Result.Granted) {
                grants.add(o);
            }
        }
        List<Operation> byEnd = new ArrayList<>(grants);
        byEnd.sort(Comparator.comparingLong(Operation::end));
        List<Operation> byStart = new ArrayList<>(grants);
        byStart.sort(Comparator.comparingLong(Operation::start));
        Operation highest = null;
        int next = 0;
        for (Operation b : byStart) {
            while (next < byEnd.size() && byEnd.get(next).end() < b.start()) {
                Operation a = byEnd.get(next++);
                if (highest == null || a.token() > highest.token()) {
                    highest = a;
                }
            }
            if (highest != null && b.token() <= highest.token()) {
                violations.add("token went backwards: " + b.id() + " got token "
                        + b.token()
                        + " on " + b.key() + " (invoked " + Times.at(b.start(), origin) + ") after "
                        + highest.id() + " had got token "
                        + highest.token() + " on "
                        + highest.key() + " (OK " + Times.at(highest.end(), origin) + ")");
            }
        }
        Map<String, Operation> highestWrite = new HashMap<>();
        long casOks = 0;
        for (Operation o : ops) {
            if (o.result() instanceof Result.Written) {
                casOks++;
                Operation h = highestWrite.get(o.key());
                if (h == null || newVersion(o) > newVersion(h)) {
                    highestWrite.put(o.key(), o);
                }
            }
        }
        long finalReads = 0;
        for (Operation o : ops) {
            if (!(o.result() instanceof Result.RegisterState read) || !LivenessChecker.FINAL_PHASE.equals(o.phase())) {
                continue;
            }
            finalReads++;
            Operation h = highestWrite.get(o.key());
            if (h != null && read.version() < newVersion(h)) {
                violations.add(o.key() + ": final read " + o.id() + " at " + Times.at(o.end(), origin)
                        + " saw version " + read.version() + ", but "
                        + h.id()
                        + "'s compare-and-set was acknowledged with version "
                        + newVersion(h) + " at "
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

    /** The version a register write that succeeded produced. */
    private static long newVersion(Operation write) {
        return ((Result.Written) write.result()).newVersion();
    }
}
