package io.holdfast.model;

/**
 * A consistent copy of a cluster's lock table, taken by its leader after a read barrier (so it
 * holds every write acknowledged before it was asked for), at one log index: what {@code holdfast
 * backup} saves and {@code holdfast restore} seeds a new cluster from.
 *
 * @param index the log index of the last entry the table applied
 * @param term that entry's Raft term
 * @param takenAtMillis when it was taken, by the leader's wall clock (for people only)
 * @param table the table in its snapshot form ({@code io.holdfast.core.LockTable#writeSnapshot})
 */
public record TableCopy(long index, long term, long takenAtMillis, byte[] table) {
    public TableCopy {
        java.util.Objects.requireNonNull(table, "table");
    }
}
