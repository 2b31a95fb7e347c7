package io.holdfast.verify.check;

import io.holdfast.verify.history.Record;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code availability}: the service writes again soon after a fault and after a heal. Read from the
 * {@link Unavailability} gaps of a run: every clean SIGKILL of the leader must be followed by a
 * successful write within {@link Bounds#kill()}, and every clean heal, restart or resume within
 * {@link Bounds#heal()}. A clean one after which no write came fails too if the run went on for
 * longer than the bound (the service wrote nothing while asked to); if the run ended first, it is
 * named in the detail and does not fail. Gaps that are not clean (another fault in force or on
 * the way) are reported, not bounded. Skipped for a run with neither a leader kill nor a heal.
 */
public final class AvailabilityChecker implements Checker {
    /**
     * The longest a clean leader kill and a clean heal may keep the service from writing.
     *
     * @param kill from the SIGKILL of the leader to the next write
     * @param heal from a heal, a restart or a resume to the next write
     */
    public record Bounds(Duration kill, Duration heal) {
        /** The bounds for a quiet machine: 3 s after a leader kill, 5 s after a heal. */
        public static final Bounds QUIET = new Bounds(Duration.ofSeconds(3), Duration.ofSeconds(5));

        public Bounds {
            if (kill.isNegative() || kill.isZero() || heal.isNegative() || heal.isZero()) {
                throw new IllegalArgumentException("the availability bounds must be positive");
            }
        }
    }

    private final Bounds bounds;

    public AvailabilityChecker(Bounds bounds) {
        this.bounds = bounds;
    }

    @Override
    public String name() {
        return "availability";
    }

    @Override
    public CheckResult check(List<Record> records) {
        long killBound = bounds.kill().toMillis();
        long healBound = bounds.heal().toMillis();
        long origin = Times.origin(records);
        List<String> violations = new ArrayList<>();
        List<String> ended = new ArrayList<>();
        long kills = 0;
        long heals = 0;
        long slowestKill = 0;
        long slowestHeal = 0;
        for (Unavailability.Gap g : Unavailability.of(records)) {
            boolean leaderKill = "kill leader".equals(g.kind());
            if (!g.clean() || !(leaderKill || g.recovery())) {
                continue;
            }
            long bound = leaderKill ? killBound : healBound;
            String what = g.kind() + " " + g.fault().target() + " at "
                    + Times.at(g.fault().time(), origin);
            if (leaderKill) {
                kills++;
                slowestKill = Math.max(slowestKill, g.millis());
            } else {
                heals++;
                slowestHeal = Math.max(slowestHeal, g.millis());
            }
            if (!g.written()) {
                if (g.wentOnMillis() > bound) {
                    violations.add("no write after the " + what + ": the run went on " + g.wentOnMillis()
                            + " ms, more than " + bound + " ms");
                } else {
                    ended.add("no write after the " + what + " (the run ended " + g.wentOnMillis() + " ms after)");
                }
            } else if (g.millis() > bound) {
                violations.add("the " + what + " was followed by the next write " + g.millis() + " ms later, more than "
                        + bound + " ms");
            }
        }
        if (kills == 0 && heals == 0) {
            return new CheckResult(name(), CheckResult.Status.SKIPPED, List.of(), Map.of(), "");
        }
        String detail = "bounds: leader kill " + killBound + " ms, heal " + healBound + " ms"
                + (ended.isEmpty() ? "" : "; " + String.join("; ", ended));
        return new CheckResult(
                name(),
                violations.isEmpty() ? CheckResult.Status.PASS : CheckResult.Status.FAIL,
                violations,
                Map.of(
                        "leader kills", kills,
                        "heals", heals,
                        "slowest kill ms", slowestKill,
                        "slowest heal ms", slowestHeal),
                detail);
    }
}
