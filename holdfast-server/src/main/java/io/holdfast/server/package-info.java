/**
 * One Holdfast node, assembled: {@link io.holdfast.server.HoldfastServer} opens the data
 * directory, checks the peers, builds the Raft server around the state machine and the node's
 * parts, then opens the client and HTTP ports and starts the watches that keep a node honest.
 *
 * <p>The server is carved into rooms, each a package that uses only the rooms below it (enforced
 * by {@code ArchitectureTest.SERVER_ROOMS_IN_ORDER}; ARCHITECTURE.md draws the map):
 *
 * <ol>
 *   <li>{@code config}: how a node runs (its configuration, Ratis's settings, the start failure).
 *   <li>{@code storage}: the data directory before Ratis opens it.
 *   <li>{@code raft}: the state machine Ratis runs, its entry codec and its queries; nothing else.
 *   <li>{@code leadership}: what a leader does and how followers notice one is gone.
 *   <li>{@code membership}: who the members are, their versions, and changes of either.
 *   <li>{@code node}: the lock service the ports serve, and the one set of parts it holds.
 *   <li>{@code backup}: backups and restore.
 *   <li>{@code http}: the HTTP port.
 *   <li>this package: the node's assembly.
 * </ol>
 *
 * <p>Outside the server, code uses the front doors only: this package, {@code config}, {@code
 * backup} and {@code http.JsonViews} ({@code ArchitectureTest.SERVER_ROOMS_STAY_INSIDE}).
 */
package io.holdfast.server;
