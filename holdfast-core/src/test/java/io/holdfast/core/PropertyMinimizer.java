package io.holdfast.core;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Makes a failing script small before it is reported. Steps refer to earlier ones by index (the
 * n-th newest token, the n-th queued wait, the session's next seq), so removing one step changes
 * what the later ones mean; jqwik's generic list shrinking then rarely finds a smaller script that
 * still fails. This minimizer cuts the script after the failing step and then removes chunks of
 * steps, halving their size down to single steps, keeping each removal after which the same check
 * still fails (delta debugging), until no single step can go.
 */
final class PropertyMinimizer {
    /** Bounds the work on one failure (each attempt runs a whole script). */
    private static final int MAX_ATTEMPTS = 5_000;

    private PropertyMinimizer() {}

    /**
     * Checks {@code script}; on failure throws an {@link AssertionError} that shows the smallest
     * script found that fails the same check, and that failure.
     */
    static java.util.Set<String> check(
            List<PropertyStep> script, Supplier<PropertySubject> subject, PropertyChecker.Options options) {
        try {
            return PropertyChecker.check(script, subject.get(), options);
        } catch (PropertyChecker.Failure failure) {
            throw minimized(script, subject, options, failure);
        }
    }

    static AssertionError minimized(
            List<PropertyStep> script,
            Supplier<PropertySubject> subject,
            PropertyChecker.Options options,
            PropertyChecker.Failure first) {
        Attempts attempts = new Attempts(subject, options, first.check);
        List<PropertyStep> best = script;
        PropertyChecker.Failure failure = first;
        if (first.step >= 0 && first.step + 1 < script.size()) {
            List<PropertyStep> cut = new ArrayList<>(script.subList(0, first.step + 1));
            PropertyChecker.Failure f = attempts.run(cut);
            if (f != null) {
                best = cut;
                failure = f;
            }
        }
        int chunk = Math.max(1, best.size() / 2);
        while (chunk >= 1 && attempts.left()) {
            boolean removed = false;
            for (int start = best.size() - chunk; start >= 0 && attempts.left(); start -= chunk) {
                List<PropertyStep> candidate = new ArrayList<>(best.subList(0, start));
                candidate.addAll(best.subList(start + chunk, best.size()));
                PropertyChecker.Failure f = attempts.run(candidate);
                if (f != null) {
                    best = candidate;
                    failure = f;
                    removed = true; // the steps before start are unchanged: go on from there
                }
            }
            if (!removed) {
                chunk = chunk == 1 ? 0 : chunk / 2;
            }
        }
        StringBuilder out = new StringBuilder("smallest failing script found (")
                .append(best.size())
                .append(" of ")
                .append(script.size())
                .append(" steps, ")
                .append(attempts.count)
                .append(" attempts), restoreAt=")
                .append(options.restoreAt())
                .append(':');
        for (int i = 0; i < best.size(); i++) {
            out.append("\n  ").append(i).append(": ").append(best.get(i));
        }
        out.append("\n").append(failure.getMessage());
        AssertionError error = new AssertionError(out.toString());
        error.addSuppressed(first);
        return error;
    }

    private static final class Attempts {
        private final Supplier<PropertySubject> subject;
        private final PropertyChecker.Options options;
        private final String check;
        int count;

        Attempts(Supplier<PropertySubject> subject, PropertyChecker.Options options, String check) {
            this.subject = subject;
            this.options = options;
            this.check = check;
        }

        boolean left() {
            return count < MAX_ATTEMPTS;
        }

        /** The failure of {@code script} if it fails the same check, else null. */
        PropertyChecker.Failure run(List<PropertyStep> script) {
            count++;
            try {
                PropertyChecker.check(script, subject.get(), options);
                return null;
            } catch (PropertyChecker.Failure f) {
                return f.check.equals(check) ? f : null;
            }
        }
    }
}
