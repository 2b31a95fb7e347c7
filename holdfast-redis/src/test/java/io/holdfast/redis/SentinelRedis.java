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
 * Redis with failover as most people run it: a primary, one replica and three Sentinels (quorum
 * two), all Debian {@code redis-server} processes on loopback. The Sentinels call a primary down
 * after one second without an answer, so a failover takes a few seconds.
 */
final class SentinelRedis implements AutoCloseable {
    static final String MASTER = "holdfast-test";
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
            group.servers.add(server(
                    base.resolve("replica"), List.of("--replicaof", "127.0.0.1", String.valueOf(primary.port()))));
            for (int i = 1; i <= 3; i++) {
                group.sentinels.add(sentinel(base.resolve("sentinel-" + i), primary.port()));
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
                "--dir", dir.toString()));
        args.addAll(more);
        return RedisProcess.start(dir, port, Optional.empty(), args);
    }

    private static RedisProcess sentinel(Path dir, int primaryPort) {
        int port = FreePorts.next();
        try {
            Files.createDirectories(dir);
            Path config = dir.resolve("sentinel.conf"); // Sentinel rewrites it: its own file
            Files.writeString(
                    config,
                    String.join(
                            "\n",
                            "port " + port,
                            "bind 127.0.0.1",
                            "dir " + dir,
                            "sentinel monitor " + MASTER + " 127.0.0.1 " + primaryPort + " 2",
                            "sentinel down-after-milliseconds " + MASTER + " 1000",
                            "sentinel failover-timeout " + MASTER + " 3000",
                            "sentinel parallel-syncs " + MASTER + " 1",
                            ""));
            return RedisProcess.start(dir, port, Optional.of(config), List.of("--sentinel"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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
        int port = primaryPort();
        return servers.stream()
                .filter(s -> s.port() == port)
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("the Sentinels name an unknown primary :" + port));
    }

    /** The server that is not the primary now. */
    RedisProcess replica() {
        int port = primaryPort();
        return servers.stream().filter(s -> s.port() != port).findFirst().orElseThrow();
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

    /** Waits until every Sentinel names {@code server} the primary (after a failover). */
    void awaitPrimary(RedisProcess server, Duration atMost) {
        await(
                "every Sentinel names :" + server.port() + " the primary",
                atMost,
                () -> sentinels.stream().allMatch(s -> {
                    SocketAddress a = onSentinel(s, c -> c.sync().getMasterAddrByName(MASTER));
                    return a instanceof InetSocketAddress i && i.getPort() == server.port();
                }));
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

    /** Waits until the replica has received everything the primary wrote so far. */
    void awaitReplicated(Duration atMost) {
        RedisProcess primary = primary();
        RedisProcess replica = replica();
        long target = offset(primary, "master_repl_offset");
        await("the replica reaches offset " + target, atMost, () -> offset(replica, "slave_repl_offset") >= target);
    }

    private static long offset(RedisProcess server, String field) {
        String info = onServer(server, c -> c.sync().info("replication"));
        for (String line : info.split("\r?\n")) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.substring(field.length() + 1).strip());
            }
        }
        return -1;
    }

    private void awaitReady() {
        await("the Sentinels know each other and the replica, and the replica is in sync", READY, () -> {
            for (RedisProcess s : sentinels) {
                Map<String, String> m = onSentinel(s, c -> c.sync().master(MASTER));
                if (!"2".equals(m.get("num-other-sentinels")) || !"1".equals(m.get("num-slaves"))) {
                    return false;
                }
            }
            String info = onServer(servers.get(1), c -> c.sync().info("replication"));
            return info.contains("master_link_status:up");
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

    private static void await(String what, Duration atMost, Supplier<Boolean> done) {
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
