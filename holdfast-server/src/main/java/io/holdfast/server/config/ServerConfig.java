package io.holdfast.server.config;

import io.holdfast.core.Quotas;
import io.holdfast.protocol.TlsFiles;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How one Holdfast node runs: its id, the cluster's members, its ports and data directory.
 *
 * <p>A peer is written {@code id=host:raftPort} or {@code id=host:raftPort:clientPort}; without the
 * client port it is taken to be {@code raftPort - 1} (4654 → 4653, the default layout). Clients
 * are sent to the leader at that address.
 *
 * @param nodeId this node's id, one of the peers
 * @param peers every member: id → address (in the order given)
 * @param dataDir where the Raft log and snapshots live
 * @param bindHost the address the ports listen on
 * @param clientPort the port for clients (0: any free port): frames and gRPC on one port in
 *     plaintext (see {@link io.holdfast.endpoint.frame.FrameServer}), gRPC over TLS with {@code tls}
 * @param httpPort health port (0: any free port, -1: none)
 * @param fsync whether the log is flushed to disk before a write is acknowledged
 * @param electionTimeoutMin the shortest Raft election timeout
 * @param tls the node's certificate, key and CA, or null for plaintext: with it, the client port
 *     speaks only TLS and the Raft port only mutually authenticated TLS (every peer presents a
 *     certificate signed by the same CA)
 * @param clientAuth whether clients must present a certificate (with {@code tls} only)
 * @param auth how clients prove who they are and the access rules to start with; null for none
 *     (every client is served without an identity)
 * @param raftTransport how the members talk Raft to each other ({@link RaftTransport}): the same on
 *     every member; {@link RaftTransport#NETTY} only without {@code tls}
 * @param quotas the quotas while access control is off ({@code --limit}; the defaults unless
 *     given): the leader brings the table's to these ({@link io.holdfast.model.Command.SetQuotas}),
 *     so give every member the same; not with access rules in {@code auth}, whose own {@code
 *     limit} lines set the quotas
 */
public record ServerConfig(
        String nodeId,
        Map<String, Peer> peers,
        Path dataDir,
        String bindHost,
        int clientPort,
        int httpPort,
        boolean fsync,
        Duration electionTimeoutMin,
        TlsFiles tls,
        TlsFiles.ClientAuth clientAuth,
        Auth auth,
        RaftTransport raftTransport,
        Quotas quotas) {

    /**
     * Client authentication.
     *
     * @param rules the access rules a new cluster starts with (proposed by the first leader that
     *     finds none in force; later changes go through the log); when set, every client must
     *     authenticate and nothing is served until rules are in force
     * @param tokens verifies bearer tokens; null to accept client certificates only
     */
    public record Auth(io.holdfast.core.AccessRules rules, io.holdfast.endpoint.Tokens tokens) {
        /** Whether calls without an identity are refused. */
        public boolean required() {
            return rules != null;
        }
    }

    /** One member's addresses. */
    public record Peer(String host, int raftPort, int clientPort) {
        public String raftAddress() {
            return host + ":" + raftPort;
        }

        public String clientAddress() {
            return host + ":" + clientPort;
        }
    }

    public static final int DEFAULT_CLIENT_PORT = 4653;
    public static final int DEFAULT_RAFT_PORT = 4654;
    public static final int DEFAULT_HTTP_PORT = 4655;

    /** A node id: what a member is called in the Raft group, on the command line and in the membership. */
    public static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    private static final Pattern PEER =
            Pattern.compile("([A-Za-z0-9_-]{1,64})=([^:=,\\s]+):(\\d{1,5})(?::(\\d{1,5}))?");

    /** A plaintext node on the {@linkplain RaftTransport#configured() configured} Raft transport. */
    public ServerConfig(
            String nodeId,
            Map<String, Peer> peers,
            Path dataDir,
            String bindHost,
            int clientPort,
            int httpPort,
            boolean fsync,
            Duration electionTimeoutMin) {
        this(
                nodeId,
                peers,
                dataDir,
                bindHost,
                clientPort,
                httpPort,
                fsync,
                electionTimeoutMin,
                null,
                TlsFiles.ClientAuth.NONE,
                null,
                RaftTransport.configured(),
                Quotas.DEFAULTS);
    }

    public ServerConfig {
        Objects.requireNonNull(nodeId, "nodeId");
        Objects.requireNonNull(clientAuth, "clientAuth");
        if (tls != null && (tls.certificate() == null || tls.trustedCa() == null)) {
            throw new IllegalArgumentException(
                    "TLS on a node needs its certificate, its private key and the CA certificate that signed its"
                            + " peers' (and clients') certificates");
        }
        if (tls == null && clientAuth != TlsFiles.ClientAuth.NONE) {
            throw new IllegalArgumentException("client certificates can only be asked for with TLS on");
        }
        Objects.requireNonNull(raftTransport, "raftTransport");
        Objects.requireNonNull(quotas, "quotas");
        if (auth != null && auth.rules() != null && !quotas.equals(Quotas.DEFAULTS)) {
            throw new IllegalArgumentException("--limit sets the quotas while access control is off; with"
                    + " --auth-rules, write them as 'limit NAME N' lines in the rules file (docs/security.md)");
        }
        if (tls != null && raftTransport != RaftTransport.GRPC) {
            throw new IllegalArgumentException("the " + raftTransport + " Raft transport has no TLS (Ratis 3.3.0;"
                    + " RATIS-2634): members with TLS on talk Raft over grpc (--raft-transport grpc)");
        }
        Objects.requireNonNull(peers, "peers");
        Objects.requireNonNull(dataDir, "dataDir");
        peers = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(peers));
        if (!ID.matcher(nodeId).matches()) {
            throw new IllegalArgumentException("node id must be 1 to 64 of [A-Za-z0-9_-], not '" + nodeId + "'");
        }
        if (!peers.containsKey(nodeId)) {
            throw new IllegalArgumentException(
                    "the peer list " + peers.keySet() + " does not include this node's id '" + nodeId + "'");
        }
        checkPort("client port", clientPort, true);
        if (httpPort != -1) {
            checkPort("HTTP port", httpPort, true);
        }
        if (electionTimeoutMin == null || electionTimeoutMin.toMillis() < 50) {
            throw new IllegalArgumentException("election timeout must be at least 50ms");
        }
    }

    /** One node alone: id n1, Raft on {@code raftPort}, data in {@code dataDir}. */
    public static ServerConfig single(Path dataDir, String host, int clientPort, int raftPort, int httpPort) {
        return new ServerConfig(
                "n1",
                Map.of("n1", new Peer(host, raftPort, clientPort)),
                dataDir,
                host,
                clientPort,
                httpPort,
                true,
                Duration.ofMillis(300));
    }

    /** This configuration with TLS on (see the record's parameters). */
    public ServerConfig withTls(TlsFiles tls, TlsFiles.ClientAuth clientAuth) {
        return new ServerConfig(
                nodeId,
                peers,
                dataDir,
                bindHost,
                clientPort,
                httpPort,
                fsync,
                electionTimeoutMin,
                tls,
                clientAuth,
                auth,
                raftTransport,
                quotas);
    }

    /** This configuration with client authentication (see {@link Auth}). */
    public ServerConfig withAuth(Auth auth) {
        return new ServerConfig(
                nodeId,
                peers,
                dataDir,
                bindHost,
                clientPort,
                httpPort,
                fsync,
                electionTimeoutMin,
                tls,
                clientAuth,
                auth,
                raftTransport,
                quotas);
    }

    /** This configuration with the members talking Raft over {@code transport}. */
    public ServerConfig withRaftTransport(RaftTransport transport) {
        return new ServerConfig(
                nodeId,
                peers,
                dataDir,
                bindHost,
                clientPort,
                httpPort,
                fsync,
                electionTimeoutMin,
                tls,
                clientAuth,
                auth,
                transport,
                quotas);
    }

    /** This configuration with the quotas while access control is off (see the record's parameters). */
    public ServerConfig withQuotas(Quotas quotas) {
        return new ServerConfig(
                nodeId,
                peers,
                dataDir,
                bindHost,
                clientPort,
                httpPort,
                fsync,
                electionTimeoutMin,
                tls,
                clientAuth,
                auth,
                raftTransport,
                quotas);
    }

    /** This node's own addresses. */
    public Peer self() {
        return peers.get(nodeId);
    }

    /**
     * Parses {@code n1=127.0.0.1:4654,n2=127.0.0.1:5654:5653,…}.
     *
     * @throws IllegalArgumentException naming the bad part
     */
    public static Map<String, Peer> parsePeers(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("the peer list is empty");
        }
        Map<String, Peer> peers = new LinkedHashMap<>();
        for (String part : spec.split(",")) {
            Matcher m = PEER.matcher(part.trim());
            if (!m.matches()) {
                throw new IllegalArgumentException(
                        "bad peer '" + part.trim() + "': write id=host:raftPort or id=host:raftPort:clientPort");
            }
            int raftPort = Integer.parseInt(m.group(3));
            int clientPort = m.group(4) == null ? raftPort - 1 : Integer.parseInt(m.group(4));
            checkPort("Raft port of " + m.group(1), raftPort, false);
            checkPort("client port of " + m.group(1), clientPort, false);
            if (peers.put(m.group(1), new Peer(m.group(2), raftPort, clientPort)) != null) {
                throw new IllegalArgumentException("peer id '" + m.group(1) + "' appears twice");
            }
        }
        return peers;
    }

    private static void checkPort(String what, int port, boolean zeroOk) {
        if (port < (zeroOk ? 0 : 1) || port > 65535) {
            throw new IllegalArgumentException(
                    what + " must be between " + (zeroOk ? 0 : 1) + " and 65535, not " + port);
        }
    }
}
