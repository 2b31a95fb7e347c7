package io.holdfast.verify.history;

/**
 * Something the harness did to the system: {@code action} says what ({@link FaultAction}: kill,
 * start, pause, resume, partition, heal, cut, snapshot, …, written to the file as its text name);
 * {@code target} names the node, client or links; {@code detail} is free text for the summary.
 */
public record Fault(long time, FaultAction action, String target, String detail) implements Record {}
