/**
 * A node's data directory before Ratis opens it: created and proved writable, its Raft log read
 * for damage, a torn tail that a crash left repaired ({@link
 * io.holdfast.server.storage.DataDirectory}, {@link io.holdfast.server.storage.RaftLogCheck}).
 * Uses only {@code config}.
 */
package io.holdfast.server.storage;
