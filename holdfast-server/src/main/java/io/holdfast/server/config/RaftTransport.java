package io.holdfast.server.config;

import java.util.Locale;
import org.apache.ratis.rpc.SupportedRpcType;

/**
 * How the members of a cluster talk Raft to each other on their Raft ports: Ratis's gRPC transport
 * or its Netty transport.
 *
 * <p><b>Every member of a cluster uses the same transport.</b> The two speak different protocols on
 * the same port: a member on one cannot vote for, append to or answer a member on the other, so
 * switching a cluster from one to the other is a restart of the whole cluster, never a rolling one.
 *
 * <p><b>{@link #NETTY} is not for production.</b> Ratis 3.3.0's Netty transport sends Raft in the
 * clear and takes any connection (TLS for it is RATIS-2634, not released): a node with TLS on
 * refuses it ({@link ServerConfig}). And a connection that a member resets as it is made can leave
 * the leader unable to send to that member until the leader's process restarts ({@code
 * NettyProxyResetTest}). It stays selectable for measurements and for running the test suites over
 * it; see docs/adr/0002-raft-transport.md.
 */
public enum RaftTransport {
    /** Ratis's gRPC transport: the default, with mutual TLS between members when TLS is on. */
    GRPC(SupportedRpcType.GRPC),
    /** Ratis's Netty transport: plaintext only, not for production. */
    NETTY(SupportedRpcType.NETTY);

    /**
     * The system property that sets the transport of a configuration that does not name one (the
     * CLI's default, and the test suites': {@code -Dholdfast.raftTransport=netty}).
     */
    public static final String PROPERTY = "holdfast.raftTransport";

    private final SupportedRpcType rpcType;

    RaftTransport(SupportedRpcType rpcType) {
        this.rpcType = rpcType;
    }

    SupportedRpcType rpcType() {
        return rpcType;
    }

    /** Its name as written in options: {@code grpc}, {@code netty}. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses {@code grpc} or {@code netty} (any case).
     *
     * @throws IllegalArgumentException naming the value and the two accepted
     */
    public static RaftTransport parse(String name) {
        for (RaftTransport t : values()) {
            if (t.name().equalsIgnoreCase(name == null ? "" : name.trim())) {
                return t;
            }
        }
        throw new IllegalArgumentException("the Raft transport is grpc or netty, not '" + name + "'");
    }

    /** The transport of a configuration that names none: {@value #PROPERTY} if set, else {@link #GRPC}. */
    public static RaftTransport configured() {
        return parse(System.getProperty(PROPERTY, "grpc"));
    }
}
