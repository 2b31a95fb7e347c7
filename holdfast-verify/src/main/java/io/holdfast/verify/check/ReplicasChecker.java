package io.holdfast.verify.check;

import io.holdfast.verify.history.Record;
import io.holdfast.verify.history.Replica;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code replicas}: every node that applied the same log index holds the same lock table (same
 * CRC of its snapshot form). Inconclusive when no two nodes reported the same index (they never
 * settled), skipped when the run recorded no replica states.
 */
final class ReplicasChecker implements Checker {
    @Override
    public String name() {
        return "replicas";
    }

    @Override
    public CheckResult check(List<Record> records) {
        Map<Long, Map<String, String>> byIndex = new LinkedHashMap<>();
        int count = 0;
        for (Record r : records) {
            if (r instanceof Replica rep) {
                byIndex.computeIfAbsent(rep.appliedIndex(), i -> new LinkedHashMap<>())
                        .put(rep.node(), rep.crc());
                count++;
            }
        }
        if (count == 0) {
            return new CheckResult(
                    name(), CheckResult.Status.SKIPPED, List.of(), Map.of(), "no replica states recorded");
        }
        List<String> violations = new ArrayList<>();
        int compared = 0;
        for (Map.Entry<Long, Map<String, String>> e : byIndex.entrySet()) {
            Map<String, String> crcs = e.getValue();
            if (crcs.size() < 2) {
                continue;
            }
            compared += crcs.size();
            if (crcs.values().stream().distinct().count() > 1) {
                violations.add("replicas differ at applied index " + e.getKey() + ": " + crcs);
            }
        }
        Map<String, Long> counts = Map.of("replicas compared", (long) compared);
        if (!violations.isEmpty()) {
            return new CheckResult(name(), CheckResult.Status.FAIL, violations, counts, null);
        }
        if (compared == 0) {
            return new CheckResult(
                    name(),
                    CheckResult.Status.INCONCLUSIVE,
                    List.of(),
                    counts,
                    "no two nodes reported the same applied index: " + byIndex);
        }
        return new CheckResult(
                name(),
                CheckResult.Status.PASS,
                List.of(),
                counts,
                compared + " replicas identical at index " + byIndex.keySet());
    }
}
