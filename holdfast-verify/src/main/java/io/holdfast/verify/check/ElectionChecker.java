package io.holdfast.verify.check;

import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.Expectation;
import io.holdfast.verify.history.Meta;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Record;
import io.holdfast.verify.history.Result;
import io.holdfast.verify.history.StoreWrite;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Checks leader elections: the campaigns, the leaders' work, and what observers were told.
 *
 * <p>An election's key is any key with a WORK or OBSERVED notice, or a WORK write in a store. A
 * campaign is recorded as the ACQUIRE of the election's lock (its token is the epoch), a
 * resignation as its RELEASE; each step of a leader's work as a WORK notice, timed before the
 * leader decided to act, followed by its store writes (ENTER, WORK…, EXIT, tagged with the epoch).
 * Violations, per election:
 *
 * <ol>
 *   <li><b>Epochs rise.</b> A leadership granted to a campaign invoked after another leadership was
 *       granted, or after an observer was told of one, has a higher epoch than each of them.
 *   <li><b>One leadership per epoch.</b> No two campaigns (or grants of the election's lock) share
 *       an epoch.
 *   <li><b>The fenced store never goes back.</b> It never accepts a write of an epoch older than
 *       one it accepted before for the election, so its accepted writes come in blocks per epoch
 *       in rising order, never A-B-A.
 *   <li><b>Nobody acts on what it knows is over.</b> A leader paused past its session's TTL may
 *       believe it leads after another was elected, and the stores see its writes late: that is
 *       allowed (the fenced store refuses them; the unfenced twin shows what fencing prevented).
 *       But a step begun after the leader knew its leadership was over (it had been told of the
 *       loss, it had resigned, or the fenced store had refused one of its writes) is a violation.
 *   <li><b>Observers see the truth, in order</b> ({@link ElectionObservations}). An observer's leaders never go back in epoch, and
 *       an epoch that ended (another leader, or nobody) is never reported again; every epoch
 *       reported was granted on that election to a campaign invoked before the report (a campaign
 *       of unknown outcome may explain it), and a reported value names that very campaign (each
 *       campaign proclaims its own request id).
 * </ol>
 *
 * <p>Counts: campaigns, leaderships, epochs, leader steps, losses told, resignations, stale writes
 * the fenced store refused, stale writes the unfenced twin took, leaders observed. At most one
 * <em>valid</em> leader at a moment is the {@code leases} checker's business: leaders record
 * VALID notices like any holder.
 *
 * <p>A run without elections is SKIPPED. In a scenario that expects {@link
 * Expectation#DEPOSED_LEADER_REFUSED}, a run in which the fenced store refused no stale write of an election, or no
 * observer was told of a leader, is INCONCLUSIVE: the fault did not bite, or nobody watched.
 */
public final class ElectionChecker implements Checker {
    /** The phase of the final probes (they grant an election's lock too, without a campaign). */
    private static final String FINAL = "final";

    /** When a leader knew that its leadership was over, and how. */
    private record Knew(long time, String how) {}

    @Override
    public String name() {
        return "elections";
    }

    @Override
    public CheckResult check(List<Record> records) {
        long origin = Times.origin(records);
        Set<String> elections = new TreeSet<>();
        for (Record r : records) {
            if (r instanceof Op op && (op.call() instanceof Call.Work || op.call() instanceof Call.Observed)) {
                elections.add(op.call().key());
            } else if (r instanceof StoreWrite w && StoreWrite.WORK.equals(w.phase())) {
                elections.add(w.key());
            }
        }
        Map<String, Long> counts = new TreeMap<>();
        if (elections.isEmpty()) {
            return new CheckResult(name(), CheckResult.Status.SKIPPED, List.of(), counts, "no elections");
        }
        List<String> violations = new ArrayList<>();
        List<Operation> ops = Operation.pair(records);
        // every grant (any key: tokens are one counter), and the election's operations by request id
        Map<Long, List<Operation>> grantsByToken = new TreeMap<>();
        Map<String, Operation> campaigns = new HashMap<>();
        for (Operation o : ops) {
            if (!(o.call() instanceof Call.Acquire)) {
                continue;
            }
            if (o.result() instanceof Result.Granted granted) {
                grantsByToken
                        .computeIfAbsent(granted.token(), t -> new ArrayList<>())
                        .add(o);
            }
            if (elections.contains(o.key())) {
                campaigns.put(o.id(), o);
                if (!FINAL.equals(o.phase())) {
                    counts.merge("campaigns", 1L, Long::sum);
                    counts.merge("leaderships", o.ok() ? 1L : 0L, Long::sum);
                }
            }
        }
        Set<Long> epochs = new HashSet<>();
        grantsByToken.forEach((token, grants) -> {
            if (grants.stream().anyMatch(g -> elections.contains(g.key()))) {
                epochs.add(token);
                if (grants.size() > 1) {
                    List<String> who =
                            grants.stream().map(g -> g.id() + " on " + g.key()).toList();
                    violations.add("epoch " + token + " granted to " + grants.size() + " campaigns: "
                            + String.join(", ", who));
                }
            }
        });
        epochsRise(elections, ops, records, origin, violations);
        fencedNeverGoesBack(elections, records, origin, violations, counts);
        knowledge(elections, records, ops, origin, violations, counts);
        ElectionObservations.check(elections, records, grantsByToken, campaigns, origin, violations, counts, epochs);
        counts.put("epochs", (long) epochs.size());
        if (!violations.isEmpty()) {
            return new CheckResult(name(), CheckResult.Status.FAIL, violations, counts, "");
        }
        if (Meta.expectations(records).contains(Expectation.DEPOSED_LEADER_REFUSED)) {
            long refused = counts.getOrDefault("stale writes refused", 0L);
            long observed = counts.getOrDefault("leaders observed", 0L);
            if (refused == 0 || observed == 0) {
                return new CheckResult(
                        name(),
                        CheckResult.Status.INCONCLUSIVE,
                        List.of(),
                        counts,
                        "the scenario expects " + Expectation.DEPOSED_LEADER_REFUSED + ": a deposed leader's write"
                                + " refused by the fenced store"
                                + " and an observer told of a leader (refused " + refused + ", observed " + observed
                                + ")");
            }
        }
        return new CheckResult(name(), CheckResult.Status.PASS, List.of(), counts, "");
    }

    /** Rule 1: a grant invoked after another grant (or a report of one) has a higher epoch. */
    private static void epochsRise(
            Set<String> elections, List<Operation> ops, List<Record> records, long origin, List<String> violations) {
        for (String election : elections) {
            // what was known, and when: grants as they returned, leaders as observers were told
            List<long[]> known = new ArrayList<>(); // {time, epoch}
            Map<Long, String> source = new HashMap<>();
            List<Operation> grants = new ArrayList<>();
            for (Operation o : ops) {
                if (o.call() instanceof Call.Acquire
                        && o.result() instanceof Result.Granted granted
                        && election.equals(o.key())) {
                    grants.add(o);
                    known.add(new long[] {o.end(), granted.token()});
                    source.putIfAbsent(granted.token(), "granted to " + o.id() + " at " + Times.at(o.end(), origin));
                }
            }
            for (Record r : records) {
                if (r instanceof Op op
                        && op.call() instanceof Call.Observed seen
                        && seen.epoch() > 0
                        && election.equals(seen.key())) {
                    known.add(new long[] {op.time(), seen.epoch()});
                    source.putIfAbsent(
                            seen.epoch(),
                            "reported to observer " + op.process() + " at " + Times.at(op.time(), origin));
                }
            }
            known.sort(Comparator.comparingLong(k -> k[0]));
            grants.sort(Comparator.comparingLong(Operation::start));
            long highest = 0;
            int next = 0;
            for (Operation b : grants) {
                while (next < known.size() && known.get(next)[0] < b.start()) {
                    highest = Math.max(highest, known.get(next++)[1]);
                }
                long epoch = b.token();
                if (epoch <= highest) {
                    violations.add(election + ": " + b.id() + " was elected with epoch " + epoch
                            + " (campaign invoked " + Times.at(b.start(), origin) + ") although epoch "
                            + highest + " had been " + source.get(highest) + ": epochs must rise");
                }
            }
        }
    }

    /** Rule 3: the fenced store's accepted writes of an election never go back in epoch. */
    private static void fencedNeverGoesBack(
            Set<String> elections,
            List<Record> records,
            long origin,
            List<String> violations,
            Map<String, Long> counts) {
        Map<String, StoreWrite> newest = new HashMap<>();
        for (Record r : records) {
            if (!(r instanceof StoreWrite w) || !elections.contains(w.key())) {
                continue;
            }
            if (StoreWrite.UNFENCED.equals(w.store())) {
                if (w.token() < w.highest()) {
                    counts.merge("stale writes unfenced took", 1L, Long::sum);
                }
                continue;
            }
            if (!w.accepted()) {
                counts.merge("stale writes refused", 1L, Long::sum);
                continue;
            }
            StoreWrite before = newest.get(w.key());
            if (before != null && w.token() < before.token()) {
                violations.add(w.key() + ": the fenced store accepted epoch " + w.token() + " (" + w.process() + ":"
                        + w.seq() + " " + w.phase() + " at " + Times.at(w.time(), origin) + ") after epoch "
                        + before.token() + " (" + before.process() + ":" + before.seq() + " " + before.phase() + " at "
                        + Times.at(before.time(), origin) + "): a deposed leader's write went through (A-B-A)");
            } else {
                newest.put(w.key(), w);
            }
        }
    }

    /** Rule 4: no step begun after the leader knew its leadership was over. */
    private static void knowledge(
            Set<String> elections,
            List<Record> records,
            List<Operation> ops,
            long origin,
            List<String> violations,
            Map<String, Long> counts) {
        Map<String, Knew> knew = new HashMap<>(); // process|epoch -> earliest knowledge
        for (Record r : records) {
            if (r instanceof Op op && op.call() instanceof Call.Lost lost && elections.contains(lost.key())) {
                counts.merge("losses told", 1L, Long::sum);
                knew.merge(
                        op.process() + "|" + lost.token(),
                        new Knew(op.time(), "told it was lost (" + code(lost.why()) + ")"),
                        ElectionChecker::earlier);
            } else if (r instanceof StoreWrite w
                    && elections.contains(w.key())
                    && StoreWrite.FENCED.equals(w.store())
                    && !w.accepted()) {
                knew.merge(
                        w.process() + "|" + w.token(),
                        new Knew(
                                w.time(), "the fenced store refused its " + w.phase() + " behind epoch " + w.highest()),
                        ElectionChecker::earlier);
            }
        }
        for (Operation o : ops) {
            if (o.call() instanceof Call.Release resign && elections.contains(o.key())) {
                if (!FINAL.equals(o.phase())) {
                    counts.merge("resignations", 1L, Long::sum);
                }
                knew.merge(
                        o.process() + "|" + resign.token(), new Knew(o.start(), "resigned"), ElectionChecker::earlier);
            }
        }
        // leadership -> {first late step, number of late steps}
        Map<String, Op> firstLate = new LinkedHashMap<>();
        Map<String, Integer> late = new HashMap<>();
        for (Record r : records) {
            if (r instanceof Op op && op.call() instanceof Call.Work step) {
                counts.merge("leader steps", 1L, Long::sum);
                String leadership = op.process() + "|" + step.epoch();
                Knew k = knew.get(leadership);
                if (k != null && op.time() > k.time()) {
                    firstLate.putIfAbsent(leadership, op);
                    late.merge(leadership, 1, Integer::sum);
                }
            }
        }
        for (Map.Entry<String, Op> e : firstLate.entrySet()) {
            Op at = e.getValue();
            Call.Work step = (Call.Work) at.call();
            Knew k = knew.get(e.getKey());
            int took = 0;
            long behind = 0;
            for (Record r : records) {
                if (r instanceof StoreWrite w
                        && StoreWrite.UNFENCED.equals(w.store())
                        && w.key().equals(step.key())
                        && w.process().equals(at.process())
                        && w.token() == step.epoch()
                        && w.time() > at.time()
                        && w.token() < w.highest()) {
                    took++;
                    behind = Math.max(behind, w.highest());
                }
            }
            violations.add(step.key() + ": " + at.process() + " led with epoch " + step.epoch() + " and acted at "
                    + Times.at(at.time(), origin) + " after it knew its leadership was over (" + k.how() + " at "
                    + Times.at(k.time(), origin) + "): " + late.get(e.getKey()) + " step(s) after that"
                    + (took == 0
                            ? ""
                            : "; the unfenced store took " + took + " of their writes behind epoch " + behind));
        }
    }

    /** The error code at the front of a loss notice's text ("SESSION_EXPIRED: …"). */
    private static String code(String why) {
        if (why == null) {
            return "no reason given";
        }
        int colon = why.indexOf(':');
        return colon < 0 ? why : why.substring(0, colon);
    }

    private static Knew earlier(Knew a, Knew b) {
        return a.time() <= b.time() ? a : b;
    }
}
