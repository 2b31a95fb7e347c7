package io.holdfast.verify.history;

/**
 * One log entry a node applied, or one snapshot it loaded, read from the node's trace after the run
 * ({@code -Dholdfast.raft.traceApplied}): the log index and term, a CRC-32 of the entry's bytes
 * ({@code null} for a snapshot load) and a CRC-32 of the lock table's snapshot form right after it.
 * Replicas that applied the same index must show the same entry and the same table.
 */
public record Applied(long time, String node, long index, long term, String entry, String table) implements Record {
    /** Whether this is a snapshot load rather than an applied entry. */
    public boolean snapshot() {
        return entry == null;
    }
}
