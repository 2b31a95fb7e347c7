/**
 * What Ratis runs of ours, and nothing else: the state machine over the lock table ({@link
 * io.holdfast.server.raft.LockStateMachine}: decode an entry, apply it, encode the replies;
 * snapshots), the format of a log entry ({@link io.holdfast.server.raft.EntryCodec}), the
 * read-only queries a replica answers ({@link io.holdfast.server.raft.TableQuery}), how the
 * cluster's id sits in the table ({@link io.holdfast.server.raft.ClusterIdRecord}), and the two
 * seams through which the node above it listens ({@link io.holdfast.server.raft.StateMachineHooks})
 * and decides what may be logged ({@link io.holdfast.server.raft.CommandAdmission}).
 *
 * <p>It knows nothing of leaders' duties, members or ports: those rooms are above it, and it uses
 * only {@code config} and {@code storage}.
 */
package io.holdfast.server.raft;
