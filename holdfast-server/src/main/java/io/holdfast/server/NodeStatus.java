package io.holdfast.server;

import java.util.UUID;

/**
 * What a node says of itself ({@link HoldfastServer#status()}). Each field is read on its own, so
 * the record is not one instant's picture.
 *
 * @param nodeId this node's id
 * @param leader whether it leads (and has caught up as leader)
 * @param leaderId the leader it knows of, or null
 * @param term its current Raft term, or -1 if unknown
 * @param appliedIndex the index of the last log entry it applied, or -1
 * @param clusterId its cluster's id ({@code ClusterIdentity}), null until the first leader made one
 */
public record NodeStatus(
        String nodeId, boolean leader, String leaderId, long term, long appliedIndex, UUID clusterId) {}
