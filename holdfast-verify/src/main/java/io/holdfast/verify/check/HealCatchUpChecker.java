package io.holdfast.verify.check;

import io.holdfast.verify.history.CaughtUp;
import io.holdfast.verify.history.Expectation;
import io.holdfast.verify.history.Fault;
import io.holdfast.verify.history.FaultAction;
import io.holdfast.verify.history.Meta;
import io.holdfast.verify.history.Record;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code heal-catch-up}: in a scenario that expects {@link Expectation#HEAL_CATCH_UP}, every replica reaches
 * the leader's commit index as of each heal within the run's heal bound of it (the {@code
 * availability} checker's, {@code --max-heal-gap}: 5 s for a quiet machine, 15 s in CI, whose loaded
 * machine once took 5.7 s), or of the moment a
 * leader was first seen if none led at the heal (read from the {@link CaughtUp} records the harness
 * writes after each heal): the election after a heal is the {@code availability} checker's to bound
 * (a leader that took itself for one the whole partition, then stepped down at the heal, leaves the
 * healed cluster to elect; a soak round at load 24 took 6.3 s to, and counted that as catching up).
 * Fails on a replica that took longer or never caught up while the harness waited, or on a heal
 * after which no node led within the harness's wait;
 * inconclusive when the network was healed but nothing was measured; skipped for a run that
 * ended before its first heal, and for every other scenario.
 *
 * <p>It says nothing about what the replicas hold once caught up (the {@code replicas} and {@code
 * applied} checkers do). The failure it catches: a leader whose appenders wait seconds between
 * retries after a long outage (Ratis's default retry policy ends at 5 s waits), so a healed
 * follower stays behind, and one more failure loses the majority (7 to 13 s behind, measured
 * before the fix: {@code HealCatchUpTest} in holdfast-server holds that one to its own bound on any
 * machine).
 */
final class HealCatchUpChecker implements Checker {
    /** The longest a replica may take from a heal to the leader's commit index as of the heal. */
    private final long limitMillis;

    /** Bounded for a quiet machine ({@link AvailabilityChecker.Bounds#QUIET}'s heal bound, 5 s). */
    HealCatchUpChecker() {
        this(AvailabilityChecker.Bounds.QUIET.heal());
    }

    /** Bounded by {@code limit} (the run's heal bound). */
    HealCatchUpChecker(Duration limit) {
        this.limitMillis = limit.toMillis();
    }

    @Override
    public String name() {
        return "heal-catch-up";
    }

    @Override
    public CheckResult check(List<Record> records) {
        List<CaughtUp> measured = new ArrayList<>();
        long networkHeals = 0;
        for (Record r : records) {
            if (r instanceof CaughtUp c) {
                measured.add(c);
            } else if (r instanceof Fault f && f.action() == FaultAction.HEAL && "network".equals(f.target())) {
                networkHeals++;
            }
        }
        if (!Meta.expectations(records).contains(Expectation.HEAL_CATCH_UP)) {
            return new CheckResult(name(), CheckResult.Status.SKIPPED, List.of(), Map.of(), "");
        }
        if (measured.isEmpty()) {
            return networkHeals == 0
                    ? new CheckResult(
                            name(),
                            CheckResult.Status.SKIPPED,
                            List.of(),
                            Map.of(),
                            "the run ended before its first heal")
                    : new CheckResult(
                            name(),
                            CheckResult.Status.INCONCLUSIVE,
                            List.of(),
                            Map.of("heals", networkHeals),
                            "the network was healed but no catch-up was measured");
        }
        long origin = Times.origin(records);
        List<String> violations = new ArrayList<>();
        Set<Long> heals = new HashSet<>();
        CaughtUp slowest = null;
        for (CaughtUp c : measured) {
            heals.add(c.healed());
            if (slowest == null || c.millis() > slowest.millis()) {
                slowest = c;
            }
            String heal = "the heal at " + Times.at(c.healed(), origin);
            if (c.leader() == null) {
                violations.add(c.node() + ": no node led within " + c.millis() + " ms of " + heal);
            } else if (!c.caughtUp()) {
                violations.add(c.node() + ": not caught up " + c.millis() + " ms after " + heal + " (applied "
                        + c.reached() + ", leader " + c.leader() + "'s commit index at the heal " + c.target()
                        + ")");
            } else if (c.catchUpMillis() > limitMillis) {
                String since = c.catchUpMillis() == c.millis()
                        ? ""
                        : " (" + c.catchUpMillis() + " ms after " + c.leader() + " was first seen leading)";
                violations.add(c.node() + ": caught up " + c.millis() + " ms after " + heal + since + ", more than "
                        + limitMillis + " ms (leader " + c.leader() + "'s commit index at the heal " + c.target()
                        + ")");
            }
        }
        Map<String, Long> counts = Map.of("heals", (long) heals.size(), "slowest ms", slowest.millis());
        String detail = "slowest: " + slowest.node() + " after the heal at " + Times.at(slowest.healed(), origin);
        return new CheckResult(
                name(),
                violations.isEmpty() ? CheckResult.Status.PASS : CheckResult.Status.FAIL,
                violations,
                counts,
                detail);
    }
}
