package io.holdfast.verify.check;

import io.holdfast.verify.history.AddRetried;
import io.holdfast.verify.history.Expectation;
import io.holdfast.verify.history.Meta;
import io.holdfast.verify.history.Record;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code interrupted-add}: in a scenario that expects {@link Expectation#INTERRUPTED_ADD_COMPLETES},
 * every addition of a member that the
 * harness interrupted by killing the leader completes, retried with no other step, within {@link
 * #LIMIT_MILLIS} of the next leader's election (read from the {@link AddRetried} records). Fails on
 * an addition that never completed, that completed later, or after which no node led; inconclusive
 * for such a run that interrupted no addition (its first rounds always do); skipped for
 * every other scenario.
 *
 * <p>It says nothing about what the new member holds (the {@code replicas} and {@code applied}
 * checkers do). The failure it catches: a new member that stood for election when the leader
 * bringing it in died, found that the log it had received does not count it, and closed its Raft
 * division while its process went on serving; every later addition of it fails with NOPROGRESS.
 */
final class InterruptedAddChecker implements Checker {
    /** The longest a retried addition may take after the next leader's election. */
    static final long LIMIT_MILLIS = 60_000;

    @Override
    public String name() {
        return "interrupted-add";
    }

    @Override
    public CheckResult check(List<Record> records) {
        List<AddRetried> adds = new ArrayList<>();
        for (Record r : records) {
            if (r instanceof AddRetried a) {
                adds.add(a);
            }
        }
        if (!Meta.expectations(records).contains(Expectation.INTERRUPTED_ADD_COMPLETES)) {
            return new CheckResult(name(), CheckResult.Status.SKIPPED, List.of(), Map.of(), "");
        }
        if (adds.isEmpty()) {
            return new CheckResult(
                    name(), CheckResult.Status.INCONCLUSIVE, List.of(), Map.of(), "no addition was interrupted");
        }
        long origin = Times.origin(records);
        List<String> violations = new ArrayList<>();
        AddRetried slowest = null;
        long retries = 0;
        for (AddRetried a : adds) {
            retries += a.retries();
            if (slowest == null || a.millisAfterElection() > slowest.millisAfterElection()) {
                slowest = a;
            }
            String what = "the addition of " + a.node() + " interrupted at " + Times.at(a.interrupted(), origin)
                    + " (leader " + a.killed() + " killed)";
            if (a.elected() < 0) {
                violations.add(what + ": no other node led within " + a.millisAfterElection() + " ms");
            } else if (!a.completed()) {
                violations.add(what + ": not completed " + a.millisAfterElection() + " ms after the next election, "
                        + a.retries() + " retries, last answer: " + a.answer());
            } else if (a.millisAfterElection() > LIMIT_MILLIS) {
                violations.add(what + ": completed " + a.millisAfterElection() + " ms after the next election, more"
                        + " than " + LIMIT_MILLIS + " ms");
            }
        }
        return new CheckResult(
                name(),
                violations.isEmpty() ? CheckResult.Status.PASS : CheckResult.Status.FAIL,
                violations,
                Map.of(
                        "interrupted",
                        (long) adds.size(),
                        "retries",
                        retries,
                        "slowest ms",
                        slowest.millisAfterElection()),
                "slowest: " + slowest.node() + ", interrupted at " + Times.at(slowest.interrupted(), origin));
    }
}
