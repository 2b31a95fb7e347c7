package io.holdfast.cli;

import io.holdfast.server.HoldfastServer;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.testkit.FreePorts;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;

/**
 * Three real server nodes in this JVM on loopback, n1, n2 and n3 (elections after 300 ms, an HTTP port each), for the
 * tests of commands that must live through a cluster's elections. {@link #nodes()} is the list the test may change (a
 * node closed, another started in its place); {@link #close} closes what it holds then.
 */
final class LoopbackCluster implements AutoCloseable {
    private final Map<String, ServerConfig.Peer> peers = new LinkedHashMap<>();
    private final List<HoldfastServer> nodes = new ArrayList<>();

    /** Starts n1, n2 and n3, data under {@code dir}/ID. */
    LoopbackCluster(Path dir) throws Exception {
        for (int i = 1; i <= 3; i++) {
            peers.put("n" + i, new ServerConfig.Peer("127.0.0.1", FreePorts.next(), FreePorts.next()));
        }
        for (String id : peers.keySet()) {
            nodes.add(HoldfastServer.start(new ServerConfig(
                    id,
                    peers,
                    dir.resolve(id),
                    "127.0.0.1",
                    peers.get(id).clientPort(),
                    FreePorts.next(),
                    true,
                    Duration.ofMillis(300))));
        }
    }

    /** The URI that names every member's client port. */
    String uri() {
        List<String> addresses = new ArrayList<>();
        peers.values().forEach(p -> addresses.add(p.clientAddress()));
        return "holdfast://" + String.join(",", addresses);
    }

    /** The client address of the member {@code id}. */
    String clientAddress(String id) {
        return peers.get(id).clientAddress();
    }

    /** The running nodes, in the order n1, n2, n3; the test may replace one. */
    List<HoldfastServer> nodes() {
        return nodes;
    }

    /** The node {@code id}. */
    HoldfastServer node(String id) {
        return nodes.stream()
                .filter(n -> n.config().nodeId().equals(id))
                .findFirst()
                .orElseThrow();
    }

    /** The id of a node that leads, once one does (within 30 s). */
    String awaitLeader() {
        return Awaitility.await()
                .atMost(Duration.ofSeconds(30))
                .until(
                        () -> nodes.stream()
                                .filter(HoldfastServer::isLeader)
                                .map(n -> n.config().nodeId())
                                .findFirst()
                                .orElse(null),
                        id -> id != null);
    }

    @Override
    public void close() {
        nodes.forEach(HoldfastServer::close);
    }
}
