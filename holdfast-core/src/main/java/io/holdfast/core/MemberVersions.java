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

    /**
     * The reserved name (a colon in it: no member's id) under which the leader records the cluster's
     * version once every member reported it: the floor below which the cluster's version never
     * drops by itself, whoever joins or has not reported yet. A report under it only ever raises
     * it.
     */
    static final String FLOOR = "cluster-version:";

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
        if (FLOOR.equals(member)) {
            versions.merge(member, version, Math::max);
        } else {
            versions.put(member, version);
        }
    }

    /** The cluster's recorded version ({@link #FLOOR}); 0 while none is recorded. */
    int floor() {
        return versions.getOrDefault(FLOOR, 0);
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
     * The version a cluster of these members speaks: the lowest any of them reported, a member
     * that has not reported counting as 1 (and a cluster of no members speaking 1); but never
     * below the {@link #floor() recorded floor}, so that a member that has not reported yet (one
     * just added, or every member of a cluster just restored) does not lower it.
     */
    int clusterVersion(Collection<String> members) {
        int lowest = Integer.MAX_VALUE;
        for (String m : members) {
            lowest = Math.min(lowest, versions.getOrDefault(m, 1));
        }
        return Math.max(floor(), lowest == Integer.MAX_VALUE ? 1 : lowest);
    }
}
