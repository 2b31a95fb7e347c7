package io.holdfast.core;

import io.holdfast.InvalidArgumentException;
import io.holdfast.model.Command;
import java.util.Collection;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The protocol version each member of the cluster last reported ({@link Command.ReportVersion}),
 * part of the replicated table, so that every replica, and every leader after an election, agrees
 * on what the cluster can apply. See {@link Vocabulary} for the rule it serves.
 */
final class MemberVersions {
    /** The most members remembered: far above any cluster, so a flood of reports cannot grow the table. */
    static final int MAX_MEMBERS = 1_000;

    static final int MAX_ID_LENGTH = 128;

    static final int MAX_VERSION = 1_000_000;

    private final TreeMap<String, Integer> versions = new TreeMap<>();

    /**
     * Records a report.
     *
     * @throws InvalidArgumentException for an empty or over-long member id, a version outside 1 to
     *     {@value #MAX_VERSION}, or a new member beyond {@value #MAX_MEMBERS}
     */
    void report(String member, int version) {
        check(member, version);
        if (!versions.containsKey(member) && versions.size() >= MAX_MEMBERS) {
            throw new InvalidArgumentException("the table already holds the versions of " + MAX_MEMBERS + " members");
        }
        versions.put(member, version);
    }

    /** Restores one entry of a snapshot; false if it is not valid. */
    boolean restore(String member, int version) {
        try {
            report(member, version);
            return true;
        } catch (InvalidArgumentException e) {
            return false;
        }
    }

    private static void check(String member, int version) {
        if (member == null || member.isBlank() || member.length() > MAX_ID_LENGTH) {
            throw new InvalidArgumentException("a member id is 1 to " + MAX_ID_LENGTH + " characters, not blank");
        }
        if (version < 1 || version > MAX_VERSION) {
            throw new InvalidArgumentException("a protocol version is 1 to " + MAX_VERSION + ", not " + version);
        }
    }

    /** Every report, sorted by member id. */
    Map<String, Integer> all() {
        return Collections.unmodifiableMap(versions);
    }

    /**
     * The version a cluster of these members speaks: the lowest any of them reported; a member
     * that has not reported counts as 1, and so does a cluster of no members.
     */
    int clusterVersion(Collection<String> members) {
        int lowest = Integer.MAX_VALUE;
        for (String m : members) {
            lowest = Math.min(lowest, versions.getOrDefault(m, 1));
        }
        return lowest == Integer.MAX_VALUE ? 1 : lowest;
    }
}
