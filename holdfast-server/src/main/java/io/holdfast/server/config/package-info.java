/**
 * How a node runs, read before anything starts: {@link io.holdfast.server.config.ServerConfig}
 * (its id, members, ports, data directory, TLS and access control), the Ratis settings every node
 * shares ({@link io.holdfast.server.config.RaftSettings}, {@link
 * io.holdfast.server.config.RaftTransport}), the JVM settings a hosting process makes first
 * ({@link io.holdfast.server.config.ServerJvm}), and the one-line failure of a start ({@link
 * io.holdfast.server.config.StartupException}). The lowest room: it uses no other.
 */
package io.holdfast.server.config;
