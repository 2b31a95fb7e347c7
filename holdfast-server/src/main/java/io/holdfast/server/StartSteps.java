package io.holdfast.server;

import io.holdfast.Ticker;
import io.holdfast.core.PlantedBug;
import io.holdfast.internal.Causes;
import io.holdfast.server.config.RaftSettings;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.config.StartupException;
import io.holdfast.server.membership.ClusterIdentity;
import io.holdfast.server.membership.RecordedMembers;
import io.holdfast.server.membership.RejoinGuard;
import io.holdfast.server.raft.LockStateMachine;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The checks and steps of a node's start that come before its parts exist ({@link
 * HoldfastServer#start}): planted bugs announced, TLS files and ports checked, the members given
 * read, the group Ratis starts with chosen, the peers' cluster ids compared, the Raft server built.
 * Each either passes or throws a {@link StartupException} with one line that says why; none leaves
 * anything running behind it.
 */
final class StartSteps {
    private static final Logger LOG = LoggerFactory.getLogger(StartSteps.class);

    private StartSteps() {}

    static void warnOfPlantedBugs(ServerConfig config, Set<PlantedBug> bugs) {
        if (!bugs.isEmpty()) {
            LOG.warn(
                    "Node {} runs with PLANTED BUGS (verification only; it is NOT a correct lock service): {}",
                    config.nodeId(),
                    bugs.stream().map(PlantedBug::cliName).sorted().collect(Collectors.joining(", ")));
        }
    }

    static void checkTlsFiles(ServerConfig config) throws StartupException {
        if (config.tls() != null) {
            try {
                config.tls().check();
            } catch (IllegalArgumentException e) {
                throw new StartupException(e.getMessage(), e);
            }
        }
    }

    /** The ports this node binds are free now: the Raft port, and the client and HTTP ports if fixed. */
    static void checkPortsFree(ServerConfig config) throws StartupException {
        checkPortFree(config.bindHost(), config.self().raftPort(), "Raft");
        if (config.clientPort() != 0) {
            checkPortFree(config.bindHost(), config.clientPort(), "client");
        }
        if (config.httpPort() > 0) {
            checkPortFree(config.bindHost(), config.httpPort(), "HTTP");
        }
    }

    /** The members given at start ({@code --peers}): as Raft peers, their client addresses, their group. */
    record Members(List<RaftPeer> peers, Map<RaftPeerId, String> clientAddresses, RaftGroup group) {
        static Members of(ServerConfig config) {
            List<RaftPeer> peers = new ArrayList<>();
            Map<RaftPeerId, String> clientAddresses = new HashMap<>();
            for (Map.Entry<String, ServerConfig.Peer> e : config.peers().entrySet()) {
                RaftPeerId id = RaftPeerId.valueOf(e.getKey());
                peers.add(RaftPeer.newBuilder()
                        .setId(id)
                        .setAddress(e.getValue().raftAddress())
                        .setClientAddress(e.getValue().clientAddress())
                        .build());
                clientAddresses.put(id, e.getValue().clientAddress());
            }
            return new Members(peers, clientAddresses, RaftGroup.valueOf(RaftSettings.GROUP_ID, peers));
        }
    }

    /**
     * The group Ratis starts with: the members given, unless {@link RejoinGuard} finds this a new
     * member not added yet, which starts knowing no members and stands for no election. Warns first
     * when the members given differ from those the log recorded ({@link RecordedMembers}).
     */
    static RaftGroup startGroup(ServerConfig config, RaftGroup group, Path raftDir, Ticker ticker)
            throws StartupException {
        Path groupDir = raftDir.resolve(RaftSettings.GROUP_ID.getUuid().toString());
        RecordedMembers.check(config, groupDir).ifPresent(LOG::warn);
        return RejoinGuard.check(config, group, groupDir, RaftSettings.parameters(config), ticker);
    }

    /** Refuses to start when a peer belongs to another cluster than this data directory ({@link ClusterIdentity}). */
    static void checkPeersClusterId(ServerConfig config, Members members) throws StartupException {
        ClusterIdentity.checkPeers(
                config.nodeId(),
                config.dataDir(),
                ClusterIdentity.read(config.dataDir()).orElse(null),
                members.peers().stream()
                        .map(p -> p.getId().toString())
                        .filter(id -> !id.equals(config.nodeId()))
                        .toList(),
                id -> ClusterIdentity.ask(
                        members.group().getPeer(RaftPeerId.valueOf(id)),
                        members.group(),
                        RaftSettings.parameters(config)));
    }

    static RaftServer buildRaft(
            ServerConfig config,
            RaftGroup startGroup,
            LockStateMachine machine,
            RaftProperties properties,
            Path raftDir)
            throws StartupException {
        try {
            return RaftServer.newBuilder()
                    .setServerId(RaftPeerId.valueOf(config.nodeId()))
                    .setGroup(startGroup)
                    .setStateMachine(machine)
                    .setProperties(properties)
                    .setParameters(RaftSettings.serverParameters(config, machine.commitWakeups()))
                    .setOption(RaftStorage.StartupOption.RECOVER)
                    .build();
        } catch (IOException | RuntimeException e) {
            throw new StartupException("cannot set up the Raft server in " + raftDir + ": " + Causes.rootMessage(e), e);
        }
    }

    static void checkPortFree(String host, int port, String what) throws StartupException {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(host, port));
        } catch (IOException e) {
            throw new StartupException(
                    "the " + what + " port " + host + ":" + port + " is in use or cannot be bound ("
                            + Causes.rootMessage(e) + ")",
                    e);
        }
    }
}
