/**
 * Leaders and their followers: where the service meets Ratis ({@link
 * io.holdfast.server.leadership.RaftGateway}: writes, read barriers, the leader's lease, who
 * leads), what only the leader does ({@link io.holdfast.server.leadership.LeaderDuties}: the
 * cluster clock, session heartbeats, expiries) and reads ({@link
 * io.holdfast.server.leadership.LeaderReads}), handing leadership over, a leader cut off from its
 * majority stepping down ({@link io.holdfast.server.leadership.LostMajority}), and a follower
 * noticing at once that its leader's process is gone ({@link
 * io.holdfast.server.leadership.DeadLeaderWatch}, {@link io.holdfast.server.leadership.Candidacy}).
 * Uses {@code raft} and {@code config}.
 */
package io.holdfast.server.leadership;
