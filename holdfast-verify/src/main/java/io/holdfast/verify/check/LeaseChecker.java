package io.holdfast.verify.check;

import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Record;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Checks what {@code Lease} promises its holder: while {@code isValid()} is true, no other lease of
 * an incompatible mode on the same name is valid. Fencing makes a stale holder harmless to a store
 * that checks tokens; this is the promise that code without fencing relies on (a scheduled job
 * that asks its lease before each step).
 *
 * <p>The workload asks each hold's lease right after the grant and right before the release, and
 * records a VALID notice for each true answer (the first timed after the question, the second
 * before it). A lease that was once invalid stays invalid, so a hold was valid for the whole time
 * between its first and last VALID notice. Two such windows of one key that overlap, for holds of
 * incompatible modes (exclusive locks; a write lock against anything), are a violation: at that
 * moment both clients were told they alone held the lock. Semaphores are not checked here.
 *
 * <p>The check cannot fail on a holder that stalls (a paused process): its lease answers from the
 * clock, so a holder that wakes up past its expiry reads it invalid. A run with fewer than two
 * windows on any one key is SKIPPED.
 */
public final class LeaseChecker implements Checker {
    /** One hold's window of validity: [from, to] in record time. */
    private record Window(String process, long token, Op.Kind kind, long from, long to) {
        boolean conflictsWith(Window other) {
            boolean shared = kind == Op.Kind.READ && other.kind == Op.Kind.READ;
            return !shared && from <= other.to && other.from <= to;
        }
    }

    @Override
    public String name() {
        return "leases";
    }

    @Override
    public CheckResult check(List<Record> records) {
        long origin = Times.origin(records);
        // key -> (process:token) -> [first, last] VALID time
        Map<String, Map<String, Window>> byKey = new TreeMap<>();
        long notices = 0;
        for (Record r : records) {
            if (!(r instanceof Op op) || op.type() != Op.Type.NOTICE || !(op.call() instanceof Call.Valid valid)) {
                continue;
            }
            Op.Kind kind = valid.target().kind();
            if (kind == Op.Kind.SEMAPHORE || kind == Op.Kind.REGISTER) {
                continue;
            }
            notices++;
            byKey.computeIfAbsent(valid.key(), k -> new HashMap<>())
                    .merge(
                            op.process() + ":" + valid.token(),
                            new Window(op.process(), valid.token(), kind, op.time(), op.time()),
                            (a, b) -> new Window(
                                    a.process, a.token, a.kind, Math.min(a.from, b.from), Math.max(a.to, b.to)));
        }
        List<String> violations = new ArrayList<>();
        long windows = 0;
        long pairs = 0;
        for (Map.Entry<String, Map<String, Window>> e : byKey.entrySet()) {
            List<Window> ws = new ArrayList<>(e.getValue().values());
            ws.sort(java.util.Comparator.comparingLong(Window::from));
            windows += ws.size();
            for (int i = 0; i < ws.size(); i++) {
                for (int j = i + 1; j < ws.size() && ws.get(j).from <= ws.get(i).to; j++) {
                    pairs++;
                    Window a = ws.get(i);
                    Window b = ws.get(j);
                    if (a.conflictsWith(b)) {
                        violations.add(e.getKey() + ": " + a.process + " (token " + a.token + ", " + a.kind
                                + ") and " + b.process + " (token " + b.token + ", " + b.kind
                                + ") were both told their lease was valid from " + Times.at(b.from, origin) + " to "
                                + Times.at(Math.min(a.to, b.to), origin) + " (" + a.process + " valid "
                                + Times.at(a.from, origin) + ".." + Times.at(a.to, origin) + ", " + b.process
                                + " valid " + Times.at(b.from, origin) + ".." + Times.at(b.to, origin) + ")");
                    }
                }
            }
        }
        Map<String, Long> counts =
                Map.of("valid answers", notices, "holds", windows, "overlapping windows compared", pairs);
        if (byKey.values().stream().noneMatch(m -> m.size() >= 2)) {
            return new CheckResult(
                    name(), CheckResult.Status.SKIPPED, List.of(), counts, "no key with two holds probed");
        }
        return new CheckResult(
                name(),
                violations.isEmpty() ? CheckResult.Status.PASS : CheckResult.Status.FAIL,
                violations,
                counts,
                "");
    }
}
