package io.holdfast.verify.check;

import io.holdfast.verify.history.Applied;
import io.holdfast.verify.history.Record;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code applied}: at every log index, every node that applied it applied the same entry (same term,
 * same bytes) and holds the same lock table after it, and a node that loaded a snapshot at an index
 * holds the table the others hold there. This is Raft's State Machine Safety checked entry by
 * entry over the whole run, where {@code replicas} compares the final tables only: a divergence
 * that a later snapshot carried from one replica to another (and so hid at the end) is caught here,
 * and it is classified: different entries at one index are a divergent log; the same entry followed
 * by different tables is a non-deterministic apply (or a divergence that came in with a snapshot).
 *
 * <p>Skipped when the run recorded no applied entries (histories from before the trace existed).
 */
final class AppliedChecker implements Checker {
    private static final int SHOWN = 5;

    @Override
    public String name() {
        return "applied";
    }

    @Override
    public CheckResult check(List<Record> records) {
        // index -> node -> what that node showed there (first time; a replay must match it)
        Map<Long, Map<String, Applied>> byIndex = new TreeMap<>();
        List<String> violations = new ArrayList<>();
        int divergentIndices = 0;
        long seen = 0;
        for (Record r : records) {
            if (!(r instanceof Applied a)) {
                continue;
            }
            seen++;
            Map<String, Applied> at = byIndex.computeIfAbsent(a.index(), i -> new LinkedHashMap<>());
            Applied before = at.get(a.node());
            if (before == null) {
                at.put(a.node(), a);
            } else if (!a.snapshot() && !before.snapshot() && !sameEntry(a, before)) {
                // a node that replays its log after a restart must apply what it applied before
                violations.add("node " + a.node() + " applied two different entries at index " + a.index() + ": "
                        + describe(before) + ", then " + describe(a));
            }
        }
        if (seen == 0) {
            return new CheckResult(
                    name(), CheckResult.Status.SKIPPED, List.of(), Map.of(), "no applied entries recorded");
        }
        long compared = 0;
        for (Map.Entry<Long, Map<String, Applied>> e : byIndex.entrySet()) {
            Map<String, Applied> at = e.getValue();
            if (at.size() < 2) {
                continue;
            }
            compared++;
            List<Applied> entries =
                    at.values().stream().filter(a -> !a.snapshot()).toList();
            boolean entriesDiffer = entries.stream().anyMatch(a -> !sameEntry(a, entries.get(0)));
            boolean tablesDiffer =
                    at.values().stream().map(Applied::table).distinct().count() > 1;
            if (!entriesDiffer && !tablesDiffer) {
                continue;
            }
            divergentIndices++;
            String who = describeAll(at);
            violations.add(
                    entriesDiffer
                            ? "replicas applied different entries at index " + e.getKey() + ": " + who
                            : "replicas applied the same entry at index " + e.getKey()
                                    + " but hold different tables after it (a non-deterministic apply, or a"
                                    + " divergence carried in by a snapshot): " + who);
        }
        if (violations.size() > SHOWN) {
            int all = violations.size();
            violations = new ArrayList<>(violations.subList(0, SHOWN));
            violations.add("... " + all + " violations in all (" + divergentIndices + " divergent indices)");
        }
        Map<String, Long> counts = new LinkedHashMap<>();
        counts.put("entries", seen);
        counts.put("indices compared", compared);
        counts.put("divergent indices", (long) divergentIndices);
        if (!violations.isEmpty()) {
            return new CheckResult(name(), CheckResult.Status.FAIL, violations, counts, null);
        }
        if (compared == 0) {
            return new CheckResult(
                    name(), CheckResult.Status.INCONCLUSIVE, List.of(), counts, "no index was applied by two nodes");
        }
        return new CheckResult(name(), CheckResult.Status.PASS, List.of(), counts, null);
    }

    private static boolean sameEntry(Applied a, Applied b) {
        return a.term() == b.term() && a.entry().equals(b.entry());
    }

    private static String describe(Applied a) {
        return a.snapshot()
                ? "snapshot of term " + a.term() + ", table " + a.table()
                : "term " + a.term() + " entry " + a.entry() + ", table " + a.table();
    }

    private static String describeAll(Map<String, Applied> at) {
        StringBuilder b = new StringBuilder();
        at.forEach((node, a) ->
                b.append(b.length() == 0 ? "" : "; ").append(node).append(" ").append(describe(a)));
        return b.toString();
    }
}
