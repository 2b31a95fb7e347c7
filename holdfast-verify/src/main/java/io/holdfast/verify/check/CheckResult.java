package io.holdfast.verify.check;

import java.util.List;
import java.util.Map;

/**
 * What one checker concluded about one run.
 *
 * <p>Only {@link Status#PASS} is a pass. {@link Status#INCONCLUSIVE} means the checker could not
 * decide (a search ran out of budget, the run did not exercise what the check needs) and must never
 * be counted as a pass; {@link Status#SKIPPED} means the run had nothing this checker reads.
 *
 * @param checker the checker's {@link Checker#name()}
 * @param status the verdict
 * @param violations one line per violation, each naming the key, the processes or tokens and the
 *     times involved; empty unless {@code status} is {@link Status#FAIL}
 * @param counts named counters for the summary (for example "stale writes refused")
 * @param detail free text: why inconclusive or skipped, what was covered
 */
public record CheckResult(
        String checker, Status status, List<String> violations, Map<String, Long> counts, String detail) {

    /** A checker's verdict. */
    public enum Status {
        PASS,
        FAIL,
        INCONCLUSIVE,
        SKIPPED
    }

    public CheckResult {
        violations = List.copyOf(violations);
        counts = Map.copyOf(counts);
        detail = detail == null ? "" : detail;
    }

    /** Whether this result is a pass (only {@link Status#PASS}). */
    public boolean passed() {
        return status == Status.PASS;
    }

    /** A one-line summary followed by the violations, one per line. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(checker).append(": ").append(status);
        if (!counts.isEmpty()) {
            sb.append(' ').append(new java.util.TreeMap<>(counts));
        }
        if (!detail.isEmpty()) {
            sb.append(" - ").append(detail);
        }
        for (String v : violations) {
            sb.append(System.lineSeparator()).append("  ").append(v);
        }
        return sb.toString();
    }
}
