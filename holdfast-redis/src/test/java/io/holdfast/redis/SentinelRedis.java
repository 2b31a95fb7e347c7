package io.holdfast.redis;

import io.holdfast.testkit.FreePorts;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.sentinel.api.StatefulRedisSentinelConnection;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Redis with failover as most people run it: a primary, two replicas and three Sentinels (quorum
 * two), all Debian {@code redis-server} processes on loopback. The Sentinels call a primary down
 * after one second without an answer, so a failover takes a few seconds.
 */
final class SentinelRedis implements AutoCloseable {
    static final String MASTER = "holdfast-test";
    static final int REPLICAS = 2;
    private static final Duration READY = Duration.ofSeconds(30);

    private final List<RedisProcess> servers = new ArrayList<>();
    private final List<RedisProcess> sentinels = new ArrayList<>();

    private SentinelRedis() {}

    /** Skipped without redis-server, unless CI requires it (see {@link RedisProcess}). */
    static SentinelRedis startOrSkip() {
        RedisProcess.requireBinary("the Sentinel test");
        SentinelRedis group = new SentinelRedis();
        try {
            Path base = Path.of("target", "redis-sentinel-" + FreePorts.next()).toAbsolutePath();
            RedisProcess primary = server(base.resolve("primary"), List.of());
            group.servers.add(primary);
            for (int i = 1; i <= REPLICAS; i++) {
                group.servers.add(server(
                        base.resolve("replica-" + i),
                        List.of("--replicaof", "127.0.0.1", String.valueOf(primary.port()))));
            }
            int[] ports = {FreePorts.next(), FreePorts.next(), FreePorts.next()};
            for (int i = 0; i < ports.length; i++) {
                group.sentinels.add(group.sentinel(base.resolve("sentinel-" + (i + 1)), ports, i));
            }
            group.awaitReady();
            return group;
        } catch (RuntimeException | Error e) {
            group.closeQuietly();
            throw e;
        }
    }

    private static RedisProcess server(Path dir, List<String> more) {
        int port = FreePorts.next();
        List<String> args = new ArrayList<>(List.of(
                "--port", String.valueOf(port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                // Replicas sync at once (Redis 7 waits 5 s for more replicas before a diskless sync).
                "--repl-diskless-sync-delay", "0",
                "--dir", dir.toString()));
        args.addAll(more);
        return RedisProcess.start(dir, port, Optional.empty(), args);
    }

    /**
     * Sentinel {@code me} of {@code ports}, told at once of the other Sentinels and the replicas (as
     * its own rewritten configuration would be), so it need not learn them from hello messages
     * every two seconds.
     */
    private RedisProcess sentinel(Path dir, int[] ports, int me) {
        int primaryPort = servers.get(0).port();
        List<String> lines = new ArrayList<>(List.of(
                "port " + ports[me],
                "bind 127.0.0.1",
                "dir " + dir,
                "sentinel myid " + sentinelId(ports[me]),
                "sentinel monitor " + MASTER + " 127.0.0.1 " + primaryPort + " 2",
                "sentinel down-after-milliseconds " + MASTER + " 1000",
                "sentinel failover-timeout " + MASTER + " 3000",
                "sentinel parallel-syncs " + MASTER + " " + REPLICAS));
        for (int port : ports) {
            if (port != ports[me]) {
                lines.add("sentinel known-sentinel " + MASTER + " 127.0.0.1 " + port + " " + sentinelId(port));
            }
        }
        for (RedisProcess replica : servers.subList(1, servers.size())) {
            lines.add("sentinel known-replica " + MASTER + " 127.0.0.1 " + replica.port());
        }
        lines.add("");
        try {
            Files.createDirectories(dir);
            Path config = dir.resolve("sentinel.conf"); // Sentinel rewrites it: its own file
            Files.writeString(config, String.join("\n", lines));
            return RedisProcess.start(dir, ports[me], Optional.of(config), List.of("--sentinel"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A Sentinel's 40-hex-digit id, made from its port. */
    private static String sentinelId(int port) {
        return String.format("%040x", port);
    }

    /** The URI a Holdfast client uses: every Sentinel, and the name they monitor. */
    String uri() {
        StringBuilder b = new StringBuilder("redis-sentinel://");
        for (RedisProcess s : sentinels) {
            b.append(b.length() == "redis-sentinel://".length() ? "" : ",")
                    .append("127.0.0.1:")
                    .append(s.port());
        }
        return b.append("?master=").append(MASTER).toString();
    }

    /** The server the Sentinels call the primary now (asking the first that answers). */
    RedisProcess primary() {
        return server(primaryPort());
    }

    /** The servers that are not the primary now. */
    List<RedisProcess> replicas() {
        int port = primaryPort();
        return servers.stream().filter(s -> s.port() != port).toList();
    }

    private int primaryPort() {
        RuntimeException last = null;
        for (RedisProcess s : sentinels) {
            try {
                return onSentinel(s, c -> ((InetSocketAddress) c.sync().getMasterAddrByName(MASTER)).getPort());
            } catch (RuntimeException e) {
                last = e;
            }
        }
        throw new IllegalStateException("no Sentinel answers", last);
    }

    /**
     * Waits until every Sentinel names the same primary other than {@code old}, and that server
     * says it is a primary; returns it.
     */
    RedisProcess awaitFailover(RedisProcess old, Duration atMost) {
        int[] port = {0};
        await("the Sentinels agree on a primary other than :" + old.port(), atMost, () -> {
            java.util.Set<Integer> named = new java.util.HashSet<>();
            for (RedisProcess s : sentinels) {
                SocketAddress a = onSentinel(s, c -> c.sync().getMasterAddrByName(MASTER));
                named.add(a instanceof InetSocketAddress i ? i.getPort() : -1);
            }
            if (named.size() != 1 || named.contains(old.port()) || named.contains(-1)) {
                return false;
            }
            port[0] = named.iterator().next();
            RedisProcess chosen = server(port[0]);
            return onServer(chosen, c -> c.sync().info("replication")).contains("role:master");
        });
        return server(port[0]);
    }

    private RedisProcess server(int port) {
        return servers.stream()
                .filter(s -> s.port() == port)
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("the Sentinels name an unknown server :" + port));
    }

    /** Raw commands on one server, as an operator with redis-cli would. */
    static <T> T onServer(
            RedisProcess server, java.util.function.Function<StatefulRedisConnection<String, String>, T> f) {
        RedisClient client = RedisClient.create(RedisURI.create("127.0.0.1", server.port()));
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            return f.apply(c);
        } finally {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
    }

    /** Waits until every replica has everything the primary wrote so far, its link up. */
    void awaitReplicasInSync(Duration atMost) {
        RedisProcess primary = primary();
        await("the replicas catch up with :" + primary.port(), atMost, () -> {
            long target = offset(onServer(primary, c -> c.sync().info("replication")), "master_repl_offset");
            for (RedisProcess replica : replicas()) {
                String info = onServer(replica, c -> c.sync().info("replication"));
                if (!info.contains("master_link_status:up") || offset(info, "slave_repl_offset") < target) {
                    return false;
                }
            }
            return true;
        });
    }

    private static long offset(String info, String field) {
        for (String line : info.split("\r?\n")) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.substring(field.length() + 1).strip());
            }
        }
        return -1;
    }

    /** Waits until {@code replica} replicates from {@code primary} with its link up. */
    void awaitReplicating(RedisProcess replica, RedisProcess primary, Duration atMost) {
        await(":" + replica.port() + " replicates from :" + primary.port(), atMost, () -> {
            String info = onServer(replica, c -> c.sync().info("replication"));
            return info.contains("role:slave")
                    && info.contains("master_port:" + primary.port() + "\r")
                    && info.contains("master_link_status:up");
        });
    }

    private void awaitReady() {
        await("the Sentinels know each other and the replicas, and the replicas are in sync", READY, () -> {
            for (RedisProcess s : sentinels) {
                Map<String, String> m = onSentinel(s, c -> c.sync().master(MASTER));
                if (!"2".equals(m.get("num-other-sentinels"))
                        || !String.valueOf(REPLICAS).equals(m.get("num-slaves"))) {
                    return false;
                }
            }
            for (RedisProcess replica : servers.subList(1, servers.size())) {
                if (!onServer(replica, c -> c.sync().info("replication")).contains("master_link_status:up")) {
                    return false;
                }
            }
            return true;
        });
    }

    private static <T> T onSentinel(
            RedisProcess sentinel, java.util.function.Function<StatefulRedisSentinelConnection<String, String>, T> f) {
        RedisClient client = RedisClient.create(RedisURI.builder()
                .withHost("127.0.0.1")
                .withPort(sentinel.port())
                .withTimeout(Duration.ofSeconds(2))
                .build());
        try (StatefulRedisSentinelConnection<String, String> c = client.connectSentinel()) {
            return f.apply(c);
        } finally {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
    }

    static void await(String what, Duration atMost, Supplier<Boolean> done) {
        long end = System.nanoTime() + atMost.toNanos();
        RuntimeException last = null;
        while (System.nanoTime() < end) {
            try {
                if (done.get()) {
                    return;
                }
            } catch (RuntimeException e) { // a Sentinel or server busy with the failover
                last = e;
            }
            try {
                Thread.sleep(100); // other processes changing state: nothing to be notified by
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting until " + what, e);
            }
        }
        throw new IllegalStateException("not within " + atMost + ": " + what, last);
    }

    private void closeQuietly() {
        try {
            close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() throws InterruptedException {
        for (RedisProcess p : sentinels) {
            p.close();
        }
        for (RedisProcess p : servers) {
            p.close();
        }
    }
}
