package io.holdfast.verify.history;

/**
 * One node's table at the end of a run, after the clients closed: its applied log index and a
 * CRC-32 of its lock table's snapshot form (replicas at the same index must show the same CRC),
 * and its Raft term (how many elections the run saw; 0 if unknown).
 */
public record Replica(long time, String node, long appliedIndex, String crc, long term) implements Record {}
