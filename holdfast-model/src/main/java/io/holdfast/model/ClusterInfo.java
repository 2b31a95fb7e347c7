package io.holdfast.model;

import java.util.List;

/**
 * The cluster as one node sees it (dashboard, JSON API, {@code holdfast members}).
 *
 * @param answeredBy the id of the node that answered
 * @param role that node's Raft role: {@code leader}, {@code follower}, {@code candidate}, …
 * @param leader the leader it knows of, or null
 * @param term its current Raft term
 * @param commitIndex the log index it knows to be committed
 * @param appliedIndex the last log index it applied
 * @param clusterVersion the protocol version the cluster speaks: the lowest its members reported,
 *     never below the version recorded once they all had (before that, one that has not reported
 *     counts as 1); see {@code io.holdfast.core.Vocabulary}
 * @param lastToken the last fencing token the cluster granted, exactly, as the answering node's
 *     applied table holds it (a follower's may lag the leader's by a few milliseconds): what {@code
 *     holdfast restore --token-floor} takes
 * @param members every member, in configuration order
 */
public record ClusterInfo(
        String answeredBy,
        String role,
        String leader,
        long term,
        long commitIndex,
        long appliedIndex,
        int clusterVersion,
        long lastToken,
        List<Member> members) {
    public ClusterInfo {
        members = List.copyOf(members);
    }

    /**
     * One member.
     *
     * @param role its role as the answering node knows it, or {@code unknown}
     * @param lastContactMillis on the leader, milliseconds since the member last answered it (0
     *     for the leader itself); null where the answering node does not know
     * @param version the protocol version the member last reported through the log; null if it
     *     has not
     */
    public record Member(
            String id,
            String raftAddress,
            String clientAddress,
            String role,
            Long lastContactMillis,
            Integer version) {}
}
