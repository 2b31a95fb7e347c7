package io.holdfast.verify.check;

import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Record;
import io.holdfast.verify.history.Result;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rule 5 of {@link ElectionChecker}: what observers of an election were told. Per observer and
 * election, in the order told: leaders never go back in epoch; an epoch that ended (the observer
 * was told of another, or that nobody leads) is never reported again (then one of the two reports
 * was false); every epoch reported was granted on that election to a campaign invoked before the
 * report (a campaign of unknown outcome may explain it), and a reported value names that very
 * campaign (each campaign proclaims its own request id).
 *
 * <p>What it cannot see: a report of "nobody leads" while someone did, unless the observer is later
 * told of that leader again; a leadership never reported at all (watches may miss one).
 */
final class ElectionObservations {
    private ElectionObservations() {}

    /** Adds a violation for each report that breaks a rule; counts the leaders reported. */
    static void check(
            Set<String> elections,
            List<Record> records,
            Map<Long, List<Operation>> grantsByToken,
            Map<String, Operation> campaigns,
            long origin,
            List<String> violations,
            Map<String, Long> counts,
            Set<Long> epochs) {
        Map<String, long[]> seen = new HashMap<>(); // observer|election -> {current, highest}
        Map<String, Map<Long, String>> ended = new HashMap<>(); // ... -> epoch -> the report that ended it
        for (Record r : records) {
            if (!(r instanceof Op op)
                    || !(op.call() instanceof Call.Observed told)
                    || !elections.contains(told.key())) {
                continue;
            }
            String who = op.process() + "|" + told.key();
            long[] s = seen.computeIfAbsent(who, k -> new long[2]);
            Map<Long, String> over = ended.computeIfAbsent(who, k -> new HashMap<>());
            long epoch = told.epoch();
            String at = told.key() + ": observer " + op.process() + " was told at " + Times.at(op.time(), origin);
            if (epoch != s[0] && s[0] > 0) {
                over.putIfAbsent(
                        s[0],
                        (epoch == 0 ? "that nobody leads" : "of epoch " + epoch) + " at "
                                + Times.at(op.time(), origin));
            }
            if (epoch == 0) {
                s[0] = 0;
                continue;
            }
            counts.merge("leaders observed", 1L, Long::sum);
            epochs.add(epoch);
            if (epoch < s[1]) {
                violations.add(at + " of epoch " + epoch + " after epoch " + s[1] + ": leaders went back");
            } else if (epoch != s[0] && over.containsKey(epoch)) {
                violations.add(at + " of epoch " + epoch + " again, after it had been told " + over.get(epoch)
                        + ": one of these reports is false");
            }
            s[0] = epoch;
            s[1] = Math.max(s[1], epoch);
            String wrong = granted(told, op.time(), grantsByToken, campaigns, origin);
            if (wrong != null) {
                violations.add(at + " of epoch " + epoch + (told.value() == null ? "" : " (value " + told.value() + ")")
                        + ", but " + wrong);
            }
        }
    }

    /** Why an observed leader was not really granted, or null if it was. */
    private static String granted(
            Call.Observed seen,
            long time,
            Map<Long, List<Operation>> grantsByToken,
            Map<String, Operation> campaigns,
            long origin) {
        List<Operation> grants = grantsByToken.getOrDefault(seen.epoch(), List.of());
        if (!grants.isEmpty()) {
            Operation g = grants.get(0);
            if (!g.key().equals(seen.key())) {
                return "that epoch was granted to " + g.id() + " on " + g.key();
            }
            if (seen.value() != null && !seen.value().equals(g.id())) {
                return "that epoch was granted to " + g.id() + " (each campaign proclaims its own id)";
            }
            if (time < g.start()) {
                return "its campaign " + g.id() + " was invoked only at " + Times.at(g.start(), origin);
            }
            return null;
        }
        if (seen.value() != null) {
            Operation c = campaigns.get(seen.value());
            if (c == null || !c.key().equals(seen.key())) {
                return "no campaign of " + seen.key() + " is " + seen.value();
            }
            if (c.result() instanceof Result.Granted granted) {
                return "campaign " + seen.value() + " was elected with epoch " + granted.token();
            }
            if (c.result() instanceof Result.Refused) {
                return "campaign " + seen.value() + " failed (" + c.error() + ")";
            }
            if (time < c.start()) {
                return "campaign " + seen.value() + " was invoked only at " + Times.at(c.start(), origin);
            }
            return null; // a campaign of unknown outcome, granted after all
        }
        for (Operation c : campaigns.values()) {
            if (c.key().equals(seen.key()) && c.unknown() && c.start() < time) {
                return null; // possibly a campaign of unknown outcome that had not proclaimed yet
            }
        }
        return "no campaign of " + seen.key() + " was granted that epoch";
    }
}
