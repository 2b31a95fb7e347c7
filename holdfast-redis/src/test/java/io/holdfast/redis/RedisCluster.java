package io.holdfast.redis;

import io.holdfast.testkit.FreePorts;
import io.lettuce.core.cluster.SlotHash;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A Redis Cluster as it is usually run: six Debian {@code redis-server} processes on loopback,
 * three primaries with a replica each, made one cluster by {@code redis-cli --cluster create}. Every
 * node has an append-only file (fsync on every write) and its {@code nodes.conf} in a directory of
 * its own under {@code target/}, so a node, or the whole cluster, stopped and started again comes
 * back with its data and its place. {@code cluster-node-timeout} is 2 s, so a replica replaces a
 * killed primary within a few seconds.
 *
 * <p>Without {@code redis-server} the test is skipped, unless CI requires it (see {@link
 * RedisProcess}).
 */
final class RedisCluster implements AutoCloseable {
    static final int NODE_TIMEOUT_MILLIS = 2000;
    private static final Duration READY = Duration.ofSeconds(30);
    private static final Path CLI = Path.of("/usr/bin/redis-cli");

    /** One node: its ports, directory and process (null while it is stopped). */
    private static final class Node {
        final int port;
        final int busPort;
        final Path dir;
        volatile RedisProcess process;

        Node(int port, int busPort, Path dir) {
            this.port = port;
            this.busPort = busPort;
            this.dir = dir;
        }

        void start() {
            process = RedisProcess.start(
                    dir,
                    port,
                    Optional.empty(),
                    List.of(
                            "--port", String.valueOf(port),
                            "--cluster-port", String.valueOf(busPort),
                            "--bind", "127.0.0.1",
                            "--cluster-enabled", "yes",
                            "--cluster-config-file", "nodes.conf",
                            "--cluster-node-timeout", String.valueOf(NODE_TIMEOUT_MILLIS),
                            // A replica may replace its primary however long their link was down.
                            "--cluster-replica-validity-factor", "0",
                            "--appendonly", "yes",
                            "--appendfsync", "always",
                            "--save", "",
                            "--repl-diskless-sync-delay", "0",
                            "--dir", dir.toString()));
        }
    }

    private final List<Node> nodes = new ArrayList<>();

    private RedisCluster() {}

    /** Starts six nodes and makes them a cluster; skipped without redis-server (see {@link RedisProcess}). */
    static RedisCluster startOrSkip() {
        RedisProcess.requireBinary("the Redis Cluster tests");
        RedisCluster cluster = new RedisCluster();
        long start = System.nanoTime();
        try {
            Path base = Path.of("target", "redis-cluster-" + FreePorts.next()).toAbsolutePath();
            for (int i = 0; i < 6; i++) {
                cluster.nodes.add(new Node(FreePorts.next(), FreePorts.next(), base.resolve("node-" + i)));
            }
            cluster.startStopped();
            List<String> create = new ArrayList<>(List.of(CLI.toString(), "--cluster", "create"));
            cluster.nodes.forEach(n -> create.add("127.0.0.1:" + n.port));
            create.addAll(List.of("--cluster-replicas", "1", "--cluster-yes"));
            run(create, base);
            cluster.awaitHealthy();
            System.out.printf(
                    "redis-cluster: six nodes started and made one cluster in %d ms%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            return cluster;
        } catch (RuntimeException | Error e) {
            cluster.close();
            throw e;
        }
    }

    private static void run(List<String> command, Path dir) {
        try {
            Process p = new ProcessBuilder(command)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** The URI a Holdfast client uses: the first three nodes (it learns the others). */
    String uri() {
        return "redis-cluster://127.0.0.1:" + nodes.get(0).port + ",127.0.0.1:" + nodes.get(1).port + ",127.0.0.1:"
                + nodes.get(2).port;
    }

    /** The port of the node that serves {@code key}'s slot now, as a running node sees it. */
    int primaryOf(String key) {
        int slot = SlotHash.getSlot(key);
        for (String line : clusterNodes(anyRunning())) {
            String[] f = line.split(" ");
            if (!f[2].contains("master") || f[2].contains("fail")) {
                continue;
            }
            for (int i = 8; i < f.length; i++) {
                String[] range = f[i].split("-");
                if (range[0].startsWith("[")) {
                    continue; // a slot being migrated
                }
                int from = Integer.parseInt(range[0]);
                int to = range.length > 1 ? Integer.parseInt(range[1]) : from;
                if (slot >= from && slot <= to) {
                    return port(f[1]);
                }
            }
        }
        throw new IllegalStateException("no primary serves slot " + slot);
    }

    /** The port of the replica of the primary on {@code primaryPort}. */
    int replicaOf(int primaryPort) {
        List<String> lines = clusterNodes(anyRunning());
        String primaryId = lines.stream()
                .filter(l -> port(l.split(" ")[1]) == primaryPort)
                .map(l -> l.split(" ")[0])
                .findFirst()
                .orElseThrow();
        return lines.stream()
                .map(l -> l.split(" "))
                .filter(f -> f[3].equals(primaryId))
                .map(f -> port(f[1]))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no replica of :" + primaryPort));
    }

    /** Kills the node on {@code port} at once (SIGKILL): no shutdown, no save. */
    void kill(int port) throws InterruptedException {
        Node node = node(port);
        node.process.kill();
        node.process = null;
    }

    /** Freezes the node on {@code port} (SIGSTOP): it keeps its sockets and answers nothing. */
    void freeze(int port) {
        node(port).process.freeze();
    }

    void thaw(int port) {
        node(port).process.thaw();
    }

    /** Starts the node on {@code port} again, with its data and nodes.conf; waits until the cluster is whole. */
    void restart(int port) {
        node(port).start();
        awaitHealthy();
    }

    /** Stops every node (SIGTERM: each writes its nodes.conf). */
    void stopAll() {
        nodes.parallelStream().forEach(RedisCluster::closeQuietly);
    }

    /** Starts every stopped node again and waits until the cluster is whole. */
    void startAll() {
        startStopped();
        awaitHealthy();
    }

    /** Starts every node that is not running, all at once. */
    private void startStopped() {
        nodes.parallelStream().filter(n -> n.process == null).forEach(Node::start);
    }

    /** Waits until the node on {@code replica} is a primary and the cluster says it is ok. */
    void awaitPromotion(int replica, Duration atMost) {
        SentinelRedis.await(
                ":" + replica + " is a primary and the cluster is ok",
                atMost,
                () -> info(replica, "replication").contains("role:master") && clusterOk());
    }

    /** Waits until {@code replica} has everything its primary wrote so far. */
    void awaitInSync(int primary, int replica, Duration atMost) {
        SentinelRedis.await(":" + replica + " caught up with :" + primary, atMost, () -> {
            long target = offset(info(primary, "replication"), "master_repl_offset");
            String info = info(replica, "replication");
            return info.contains("master_link_status:up") && offset(info, "slave_repl_offset") >= target;
        });
    }

    /**
     * Waits until every node runs and says the cluster is ok, three serve slots, and three are
     * replicas whose link is up.
     */
    void awaitHealthy() {
        SentinelRedis.await("the cluster is ok, three primaries each with a replica in sync", READY, () -> {
            if (!clusterOk() || nodes.stream().anyMatch(n -> n.process == null)) {
                return false;
            }
            int replicas = 0;
            for (Node n : nodes) {
                String info = info(n.port, "replication");
                if (info.contains("role:slave")) {
                    if (!info.contains("master_link_status:up")) {
                        return false;
                    }
                    replicas++;
                }
            }
            return replicas == 3;
        });
    }

    private boolean clusterOk() {
        for (Node n : nodes) {
            if (n.process != null
                    && !SentinelRedis.onServer(n.process, c -> c.sync().clusterInfo())
                            .contains("cluster_state:ok")) {
                return false;
            }
        }
        return true;
    }

    private String info(int port, String section) {
        return SentinelRedis.onServer(node(port).process, c -> c.sync().info(section));
    }

    private static long offset(String info, String field) {
        for (String line : info.split("\r?\n")) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.substring(field.length() + 1).strip());
            }
        }
        return -1;
    }

    private List<String> clusterNodes(RedisProcess on) {
        return SentinelRedis.onServer(on, c -> c.sync().clusterNodes()).lines().toList();
    }

    private RedisProcess anyRunning() {
        return nodes.stream().filter(n -> n.process != null).findFirst().orElseThrow().process;
    }

    /** The client port of a {@code CLUSTER NODES} address, {@code host:port@busport}. */
    private static int port(String address) {
        String hostPort = address.split("@")[0];
        return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
    }

    private Node node(int port) {
        return nodes.stream()
                .filter(n -> n.port == port)
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no node on :" + port));
    }

    private static void closeQuietly(Node n) {
        if (n.process == null) {
            return;
        }
        try {
            n.process.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            n.process = null;
        }
    }

    @Override
    public void close() {
        stopAll();
    }
}
