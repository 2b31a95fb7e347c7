/**
 * The lock service a node serves ({@link io.holdfast.server.node.RaftLockService}: who may submit
 * what, when) and the one set of parts it and every other user hold ({@link
 * io.holdfast.server.node.NodeParts}); what the node does with each applied entry ({@code
 * NodeHooks}); batching into log entries ({@link io.holdfast.server.node.Proposer}); events to
 * subscribers and the sessions' event memory; what operators read; the audit trail; the metrics.
 * Uses every room below it; {@code backup}, {@code http} and the node's assembly use it.
 */
package io.holdfast.server.node;
