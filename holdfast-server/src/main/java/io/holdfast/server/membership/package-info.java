/**
 * Who the members are and what they speak: changes of the members through Ratis ({@link
 * io.holdfast.server.membership.Membership}), the cluster's protocol version and the admission of
 * commands and voters by it ({@link io.holdfast.server.membership.ClusterVersion}, {@link
 * io.holdfast.server.membership.VersionAdmission}, {@link
 * io.holdfast.server.membership.VersionReport}), the cluster's identity, and the checks that keep a
 * node from joining as something the cluster does not take it for (recorded members, a wiped disk,
 * the other transport, a new member caught in its own addition, a division Ratis closed). Uses
 * {@code leadership}, {@code raft}, {@code storage} and {@code config}.
 */
package io.holdfast.server.membership;
