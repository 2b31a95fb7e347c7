package io.holdfast.core;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * The parts of one {@link LockTable}, made and wired together once: each keeps one rule, and the
 * table, its {@link Dispatch}, its {@link ReplyMemory} and the snapshot codec reach them here rather
 * than each holding its own copy of the fields. It holds no rule of its own beyond what counts as
 * a state entry (for the quota of that name).
 *
 * <p>Not thread-safe, like the table it belongs to.
 */
final class TableParts {
    /** The table's planted bugs (verification only); empty for a correct table. Unmodifiable. */
    final Set<PlantedBug> bugs;

    final Admission admission = new Admission();
    final Sessions sessions;
    final Queues queues;
    final Acquisitions acquisitions;
    final Releases releases;
    final Registers registers;
    final Transactions transactions;
    final ReplyMemory replies;
    final MemberVersions memberVersions = new MemberVersions();
    final RevokedTokens revokedTokens = new RevokedTokens();

    TableParts(Set<PlantedBug> bugs) {
        this.bugs = bugs.isEmpty() ? Collections.emptySet() : Collections.unmodifiableSet(EnumSet.copyOf(bugs));
        this.sessions = new Sessions(admission, this::stateEntries);
        this.queues = new Queues(this.bugs);
        this.acquisitions = new Acquisitions(queues, admission, this::stateEntries);
        this.releases = new Releases(queues, this.bugs);
        this.registers = new Registers(queues, queues::holderOf, admission, this::stateEntries, this.bugs);
        this.transactions = new Transactions(registers, queues, admission, sessions, this.bugs);
        this.replies = new ReplyMemory(sessions, admission, this.bugs);
    }

    /** Sessions, locks and registers together, for the state-entries quota. */
    int stateEntries() {
        return sessions.size() + queues.size() + registers.size();
    }

    /**
     * Fills these fresh parts with what a cluster restored from {@code old} keeps ({@link
     * LockTable#restored}): registers, access rules, quotas while access control is off, the deny
     * list of tokens, the clock with {@code lastToken}, and the cluster's version floor.
     */
    void keepForRestore(TableParts old, long lastToken, int versionFloor) {
        old.registers.copyInto(registers);
        admission.restoreRules(old.admission.rules());
        admission.restoreOpenQuotas(old.admission.openQuotas());
        old.revokedTokens.entries().forEach(revokedTokens::restore);
        queues.restoreClock(old.queues.now(), lastToken);
        if (versionFloor > 0) {
            memberVersions.report(MemberVersions.FLOOR, versionFloor);
        }
        restoreDerived();
    }

    /** Rebuilds what is derived from the restored sessions and registers. */
    void restoreDerived() {
        sessions.recount();
        registers.recount();
    }
}
