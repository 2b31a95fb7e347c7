package io.holdfast.it.conformance;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The store that the mutual-exclusion scenario writes through: a counter that keeps the highest
 * fencing token it has seen and refuses a lower one (the fencing check), and that notes any two
 * writers inside at once (the exclusion check). Each increment stays inside for a few milliseconds,
 * so that two holders at once would meet there.
 */
final class FencedCounter {
    private final List<String> violations = new ArrayList<>();
    private long highest;
    private long value;
    private String inside;

    /** One critical section of {@code who} with {@code token}: enter, increment, leave. */
    void increment(String who, long token) throws InterruptedException {
        synchronized (this) {
            if (inside != null) {
                violations.add(who + " (token " + token + ") entered while " + inside + " was inside");
            }
            if (token <= highest) {
                violations.add(
                        who + "'s token " + token + " is not above the highest seen, " + highest + ": a stale holder");
                return;
            }
            highest = token;
            inside = who + " (token " + token + ")";
        }
        TimeUnit.MILLISECONDS.sleep(3);
        synchronized (this) {
            value++;
            inside = null;
        }
    }

    synchronized long value() {
        return value;
    }

    synchronized List<String> violations() {
        return List.copyOf(violations);
    }
}
