package io.holdfast.server.raft;

import io.holdfast.core.LockTable;
import io.holdfast.model.Command;
import java.util.Optional;
import java.util.UUID;

/**
 * How a cluster's id is recorded in its replicated table: as the report of a protocol version
 * ({@link Command.ReportVersion}) under the reserved member name {@code cluster-id:<uuid>}, which
 * no member can hold (a node id cannot contain a colon), so it names no member and moves no
 * cluster version. Every build already applies and snapshots such reports, so the id is in every
 * snapshot, every snapshot a leader sends and every backup. What a node does with the id (keep it,
 * compare it, propose one) is {@code membership.ClusterIdentity}'s.
 *
 * <p>Guarantees: {@link #inTable} and {@link #of} read only names written by {@link #report}; a
 * name with the prefix that does not parse as a UUID is ignored, never an error.
 */
public final class ClusterIdRecord {
    /** The reserved member name's prefix. */
    public static final String PREFIX = "cluster-id:";

    private ClusterIdRecord() {}

    /** The command that records {@code id} in the table. */
    public static Command.ReportVersion report(UUID id) {
        return new Command.ReportVersion(PREFIX + id, 1);
    }

    /** The id the table records, if any (call under the apply lock, or on a table of one's own). */
    public static Optional<UUID> inTable(LockTable table) {
        for (String member : table.versionReports().keySet()) {
            Optional<UUID> id = parse(member);
            if (id.isPresent()) {
                return id;
            }
        }
        return Optional.empty();
    }

    /** The id that {@code command} records, if it is such a report. */
    public static Optional<UUID> of(Command command) {
        return command instanceof Command.ReportVersion r ? parse(r.member()) : Optional.empty();
    }

    private static Optional<UUID> parse(String member) {
        if (!member.startsWith(PREFIX)) {
            return Optional.empty();
        }
        try {
            return Optional.of(UUID.fromString(member.substring(PREFIX.length())));
        } catch (IllegalArgumentException e) {
            return Optional.empty(); // not one of ours: a leader writes only UUIDs
        }
    }
}
