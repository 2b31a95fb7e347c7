package io.holdfast.server.raft;

import io.holdfast.core.LockTable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verification only ({@code -Dholdfast.raft.traceApplied=true}, set by {@code holdfast verify}):
 * one line per applied entry with its index, term, a CRC of its bytes and of the table after it,
 * and one per snapshot loaded, so that replicas that disagree can be compared entry by entry: a
 * different entry CRC at one index is a divergent log, the same entry with a different table is a
 * non-deterministic apply. The lines' format is what the verifier's {@code AppliedTrace} reads.
 * Off, it costs one boolean test per entry.
 */
final class AppliedTrace {
    private static final Logger TRACE = LoggerFactory.getLogger("io.holdfast.server.applied");

    private static final boolean ON = Boolean.getBoolean("holdfast.raft.traceApplied");

    private AppliedTrace() {}

    /**
     * An entry applied: call under the apply lock, right after it. Not {@code traced}: a throwaway
     * group's state machine in the node's JVM, which the verifier would read as the node's own.
     */
    static void applied(boolean traced, long index, long term, byte[] entry, LockTable table) {
        if (ON && traced) {
            TRACE.info(
                    "applied {} term {} entry {} table {} token {}",
                    index,
                    term,
                    TableDigest.crc(entry),
                    TableDigest.crc(TableDigest.bytes(table)),
                    table.lastToken());
        }
    }

    /** A snapshot loaded: call under the apply lock, right after it; {@code traced} as for {@link #applied}. */
    static void loaded(boolean traced, long index, long term, LockTable table) {
        if (ON && traced) {
            TRACE.info(
                    "loaded {} term {} snapshot table {} token {}",
                    index,
                    term,
                    TableDigest.crc(TableDigest.bytes(table)),
                    table.lastToken());
        }
    }
}
