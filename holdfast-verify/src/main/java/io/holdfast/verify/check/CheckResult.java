package io.holdfast.verify.check;

import java.util.List;
import java.util.Map;

public record CheckResult(
        String checker, Status status, List<String> violations, Map<String, Long> counts, String detail) {
    public enum Status {
        PASS,
        FAIL,
        INCONCLUSIVE,
        SKIPPED
    }
}
