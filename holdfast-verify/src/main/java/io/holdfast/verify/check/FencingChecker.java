package io.holdfast.verify.check;

import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.Expectation;
import io.holdfast.verify.history.Meta;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Record;
import io.holdfast.verify.history.Result;
import io.holdfast.verify.history.StoreWrite;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Checks what the protected stores saw.
 *
 * <p>Violations, over the writes of the {@link StoreWrite#FENCED fenced} store in log order:
 *
 * <ul>
 *   <li>an accepted token of a key lower than one accepted before it (the store's order broke);
 *   <li>an overlap: between an accepted ENTER of one (process, seq) and its accepted EXIT, an
 *       accepted write of another (process, seq) on the same key. A section whose EXIT was refused
 *       was fenced off, which is what fencing is for, and is no overlap;
 *   <li>one (process, seq) ENTER or EXIT accepted twice on a key (a write applied twice; a leader's
 *       WORK writes repeat by design).
 * </ul>
 *
 * <p>Also over every store and the granted acquires: one token used by two different acquires (process,
 * seq), on any keys (tokens are unique).
 *
 * <p>Counts: "accepted", "stale writes refused" (fenced store), and "unfenced overlaps": ENTERs and WORK
 * writes in the unfenced twin while another acquire's ENTER on the key had no EXIT yet (a section
 * stops counting as open once an ENTER with a higher token has counted the overlap with it). The unfenced overlaps show
 * what fencing prevented and are not violations.
 *
 * <p>The overlap rule assumes one section at a time per key, so only exclusive locks' critical
 * sections should write to the stores (a semaphore's sections overlap by design).
 *
 * <p>A run without fenced writes is SKIPPED. A run whose scenario expects {@link
 * Expectation#STALE_WRITE_REFUSED} but in which the fenced store refused none, or the unfenced twin
 * shows no overlap, is INCONCLUSIVE: the fault did not bite, so the fence was never tested.
 */
public final class FencingChecker implements Checker {
    @Override
    public String name() {
        return "fencing";
    }

    @Override
    public CheckResult check(List<Record> records) {
        long origin = Times.origin(records);
        List<String> violations = new ArrayList<>();
        long accepted = 0;
        long refused = 0;
        long unfencedOverlaps = 0;
        long fencedWrites = 0;

        Map<String, StoreWrite> lastAccepted = new HashMap<>();
        // key -> (process:seq -> accepted ENTER without accepted EXIT yet)
        Map<String, Map<String, StoreWrite>> openFenced = new HashMap<>();
        // key -> (process:seq of an open section -> the first other accepted write inside it)
        Map<String, Map<String, StoreWrite>> intruders = new HashMap<>();
        Set<String> acceptedPhases = new HashSet<>();
        Map<String, Map<String, StoreWrite>> openUnfenced = new HashMap<>();
        // token -> acquire (process:seq) -> the record where it was seen first
        Map<Long, Map<String, Record>> tokenUsers = new TreeMap<>();

        for (Record r : records) {
            if (r instanceof Op op) {
                if (op.isCompletion() && op.call() instanceof Call.Acquire && op.result() instanceof Result.Granted g) {
                    tokenUsers
                            .computeIfAbsent(g.token(), t -> new LinkedHashMap<>())
                            .putIfAbsent(op.id(), op);
                }
            } else if (r instanceof StoreWrite w) {
                String id = w.process() + ":" + w.seq();
                tokenUsers
                        .computeIfAbsent(w.token(), t -> new LinkedHashMap<>())
                        .putIfAbsent(id, w);
                if (StoreWrite.UNFENCED.equals(w.store())) {
                    Map<String, StoreWrite> open = openUnfenced.computeIfAbsent(w.key(), k -> new HashMap<>());
                    boolean other = open.keySet().stream().anyMatch(o -> !o.equals(id));
                    if (StoreWrite.ENTER.equals(w.phase())) {
                        if (other) {
                            unfencedOverlaps++;
                        }
                        // a section entered with an older token is superseded: counted once, here
                        // (a leader told of its loss never writes its exit)
                        open.values().removeIf(o -> o.token() < w.token());
                        open.put(id, w);
                    } else if (StoreWrite.WORK.equals(w.phase())) {
                        if (other) {
                            unfencedOverlaps++; // a deposed leader's step inside its successor's section
                        }
                    } else {
                        open.remove(id);
                    }
                    continue;
                }
                if (!StoreWrite.FENCED.equals(w.store())) {
                    continue;
                }
                fencedWrites++;
                if (!w.accepted()) {
                    refused++;
                    continue;
                }
                accepted++;
                StoreWrite last = lastAccepted.get(w.key());
                if (last != null && w.token() < last.token()) {
                    violations.add(w.key() + ": fenced store accepted token " + w.token() + " (" + describe(w, origin)
                            + ") after token " + last.token() + " (" + describe(last, origin) + ")");
                }
                lastAccepted.put(w.key(), w);
                if (!StoreWrite.WORK.equals(w.phase()) && !acceptedPhases.add(w.key() + "|" + id + "|" + w.phase())) {
                    violations.add(w.key() + ": " + id + " " + w.phase() + " (token " + w.token()
                            + ") accepted twice, again at " + Times.at(w.time(), origin));
                }
                Map<String, StoreWrite> open = openFenced.computeIfAbsent(w.key(), k -> new HashMap<>());
                Map<String, StoreWrite> inside = intruders.computeIfAbsent(w.key(), k -> new HashMap<>());
                for (Map.Entry<String, StoreWrite> e : open.entrySet()) {
                    if (!e.getKey().equals(id)) {
                        inside.putIfAbsent(e.getKey(), w);
                    }
                }
                if (StoreWrite.ENTER.equals(w.phase())) {
                    open.put(id, w);
                    inside.remove(id);
                } else if (StoreWrite.EXIT.equals(w.phase())) {
                    StoreWrite enter = open.remove(id);
                    StoreWrite intruder = inside.remove(id);
                    if (enter != null && intruder != null) {
                        violations.add(w.key() + ": overlap in the fenced store: " + intruder.process() + ":"
                                + intruder.seq() + " (token " + intruder.token() + ") wrote " + intruder.phase()
                                + " at " + Times.at(intruder.time(), origin) + " inside the section of " + id
                                + " (token " + w.token() + ", enter " + Times.at(enter.time(), origin) + ", exit "
                                + Times.at(w.time(), origin) + ")");
                    }
                }
            }
        }
        for (Map.Entry<Long, Map<String, Record>> e : tokenUsers.entrySet()) {
            if (e.getValue().size() > 1) {
                List<String> users = new ArrayList<>();
                e.getValue().forEach((id, where) -> users.add(id + " (" + where(where, origin) + ")"));
                String shown = String.join(", ", users.subList(0, Math.min(4, users.size())))
                        + (users.size() > 4 ? ", … and " + (users.size() - 4) + " more" : "");
                violations.add(
                        "token " + e.getKey() + " used by " + e.getValue().size() + " acquires: " + shown);
            }
        }
        Map<String, Long> counts =
                Map.of("accepted", accepted, "stale writes refused", refused, "unfenced overlaps", unfencedOverlaps);
        if (!violations.isEmpty()) {
            return new CheckResult(name(), CheckResult.Status.FAIL, violations, counts, "");
        }
        if (fencedWrites == 0) {
            return new CheckResult(name(), CheckResult.Status.SKIPPED, List.of(), counts, "no fenced store writes");
        }
        if ((refused == 0 || unfencedOverlaps == 0)
                && Meta.expectations(records).contains(Expectation.STALE_WRITE_REFUSED)) {
            return new CheckResult(
                    name(),
                    CheckResult.Status.INCONCLUSIVE,
                    List.of(),
                    counts,
                    "the scenario expects " + Expectation.STALE_WRITE_REFUSED + ", the fault biting: a stale write"
                            + " refused by the fenced store and an overlap in the unfenced twin (refused " + refused
                            + ", overlaps " + unfencedOverlaps + ")");
        }
        return new CheckResult(name(), CheckResult.Status.PASS, List.of(), counts, "");
    }

    private static String where(Record r, long origin) {
        if (r instanceof Op op) {
            return "acquire OK of " + op.call().key() + " at " + Times.at(op.time(), origin);
        }
        StoreWrite w = (StoreWrite) r;
        return w.store() + " " + w.phase() + " of " + w.key() + " at " + Times.at(w.time(), origin);
    }

    private static String describe(StoreWrite w, long origin) {
        return w.process() + ":" + w.seq() + " " + w.phase() + " at " + Times.at(w.time(), origin);
    }
}
