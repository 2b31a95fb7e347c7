package io.holdfast.verify.history;

/**
 * Something the harness did to the system: {@code action} is one of kill, start, pause, resume,
 * partition, heal, cut (close a client's connections), snapshot, …; {@code target} names the node,
 * client or links; {@code detail} is free text for the summary.
 */
public record Fault(long time, String action, String target, String detail) implements Record {}
