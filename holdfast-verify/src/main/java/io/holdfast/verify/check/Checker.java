package io.holdfast.verify.check;

import io.holdfast.verify.history.Record;
import java.util.List;

/**
 * One property checked over a run's records. A checker reads the records only (so a saved run can be
 * checked again), never changes them, and never throws on a well-formed history: whatever it cannot
 * decide is {@link CheckResult.Status#INCONCLUSIVE}.
 */
public interface Checker {
    /** A short stable name ("fencing", "linearizability", …). */
    String name();

    /**
     * Checks one run.
     *
     * @param records every record of the run ordered by time (as {@link
     *     io.holdfast.verify.history.History#readAll} returns them)
     */
    CheckResult check(List<Record> records);
}
