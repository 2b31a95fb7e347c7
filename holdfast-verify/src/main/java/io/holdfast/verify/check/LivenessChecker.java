package io.holdfast.verify.check;

import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.FinalLock;
import io.holdfast.verify.history.Record;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Checks the final phase, run after every fault healed and the clients gave back what they held.
 *
 * <ul>
 *   <li>Every final-phase acquire and register read succeeds; a {@code Refused}, an {@code Unknown}
 *       or a missing completion is a violation naming the key and the error.
 *   <li>Handoff: when a final-phase release of a key that answered {@code Released} was invoked while
 *       another process's final-phase acquire of that key was pending, that acquire must be granted
 *       within {@link #HANDOFF_BOUND_NANOS} of the release's answer.
 *   <li>Every {@link FinalLock} shows no holders and no waiters. A holder whose session is not among
 *       the live sessions is named as held by an expired or closed session (an orphaned hold).
 * </ul>
 *
 * <p>A run with neither final-phase operations nor final locks is SKIPPED.
 */
public final class LivenessChecker implements Checker {
    /** The phase of the checks after healing. */
    public static final String FINAL_PHASE = "final";
    /** How long a freed lock may keep a pending waiter waiting: 5 s. */
    public static final long HANDOFF_BOUND_NANOS = 5_000_000_000L;

    @Override
    public String name() {
        return "liveness";
    }

    @Override
    public CheckResult check(List<Record> records) {
        long origin = Times.origin(records);
        List<String> violations = new ArrayList<>();
        List<Operation> finals = new ArrayList<>();
        for (Operation o : Operation.pair(records)) {
            if (FINAL_PHASE.equals(o.phase())) {
                finals.add(o);
            }
        }
        long probes = 0;
        for (Operation o : finals) {
            if (o.call() instanceof Call.Acquire || o.call() instanceof Call.RegisterRead) {
                probes++;
                if (!o.ok()) {
                    violations.add(o.key() + ": final-phase " + Operation.name(o.call()) + " by " + o.id()
                            + " did not succeed (" + o.result().type() + ", error " + o.error() + "): "
                            + o.describe(origin));
                }
            }
        }
        long handoffs = 0;
        for (Operation rel : finals) {
            if (!(rel.call() instanceof Call.Release) || !rel.ok()) {
                continue;
            }
            long released = rel.end();
            // The release took effect somewhere in [invoke, OK]: a waiter pending when it was
            // invoked counts (it may even hear of its grant before the releaser hears its OK).
            long releasing = rel.start();
            for (Operation w : finals) {
                if (!(w.call() instanceof Call.Acquire)
                        || w.process().equals(rel.process())
                        || !w.key().equals(rel.key())
                        || w.start() >= releasing
                        || w.end() <= releasing) {
                    continue;
                }
                handoffs++;
                if (!w.ok()) {
                    violations.add(rel.key() + ": waiter " + w.id() + " was pending when "
                            + rel.id()
                            + " released at " + Times.at(released, origin) + " and was never granted ("
                            + w.result().type() + ", error " + w.error() + ")");
                } else if (w.end() - released > HANDOFF_BOUND_NANOS) {
                    violations.add(String.format(
                            java.util.Locale.ROOT,
                            "%s: waiter %s granted %.3f s after %s released at %s (bound %d s)",
                            rel.key(),
                            w.id(),
                            (w.end() - released) / 1e9,
                            rel.id(),
                            Times.at(released, origin),
                            HANDOFF_BOUND_NANOS / 1_000_000_000L));
                }
            }
        }
        long finalLocks = 0;
        for (Record r : records) {
            if (!(r instanceof FinalLock fl)) {
                continue;
            }
            finalLocks++;
            for (int i = 0; i < fl.holders().size(); i++) {
                String s = fl.holders().get(i);
                String token = i < fl.holderTokens().size()
                        ? String.valueOf(fl.holderTokens().get(i))
                        : "?";
                String v = fl.key() + " still held by session " + s + " (token " + token + ") at the end";
                if (!fl.liveSessions().contains(s)) {
                    v += ": held by an expired or closed session";
                }
                violations.add(v);
            }
            if (fl.waiters() > 0) {
                violations.add(fl.key() + " still has " + fl.waiters() + " waiter(s) at the end");
            }
        }
        Map<String, Long> counts = Map.of("final probes", probes, "handoffs", handoffs, "final locks", finalLocks);
        if (!violations.isEmpty()) {
            return new CheckResult(name(), CheckResult.Status.FAIL, violations, counts, "");
        }
        if (finals.isEmpty() && finalLocks == 0) {
            return new CheckResult(name(), CheckResult.Status.SKIPPED, List.of(), counts, "no final phase recorded");
        }
        return new CheckResult(name(), CheckResult.Status.PASS, List.of(), counts, "");
    }
}
