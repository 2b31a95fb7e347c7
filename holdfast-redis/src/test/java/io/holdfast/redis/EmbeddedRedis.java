package io.holdfast.redis;

import io.holdfast.testkit.FreePorts;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;
import redis.embedded.RedisServer;

/**
 * A real Redis 6.2 server run from the embedded-redis jar, on loopback and a free port, with an
 * append-only file (fsync on every write) under {@code target/}, so that {@link #stop()} and {@link
 * #start()} are a restart that keeps the data, as a durable Redis behaves.
 */
final class EmbeddedRedis {
    private final int port;
    private final Path dir;
    private RedisServer server;

    private final java.util.List<String> settings;

    /** @param settings more lines of redis.conf, such as {@code requirepass SECRET} */
    EmbeddedRedis(String... settings) {
        this.port = freePort();
        this.dir = Path.of("target", "redis-data-" + port).toAbsolutePath();
        this.settings = java.util.List.of(settings);
    }

    int port() {
        return port;
    }

    String uri() {
        return "redis://127.0.0.1:" + port;
    }

    /** Runs raw commands against this Redis, as an operator with redis-cli would. */
    void onRedis(Consumer<StatefulRedisConnection<String, String>> action) {
        RedisClient client = RedisClient.create(uri());
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            action.accept(c);
        } finally {
            client.shutdown();
        }
    }

    synchronized void start() {
        try {
            Files.createDirectories(dir);
            var builder = RedisServer.newRedisServer()
                    .port(port)
                    .bind("127.0.0.1")
                    .setting("appendonly yes")
                    .setting("appendfsync always")
                    .setting("save \"\"")
                    .setting("dir " + dir);
            settings.forEach(builder::setting);
            server = builder.build();
            server.start();
        } catch (IOException e) {
            throw new UncheckedIOException("starting Redis on port " + port, e);
        }
        awaitPing(Duration.ofSeconds(20));
    }

    synchronized void stop() {
        if (server == null) {
            return;
        }
        try {
            server.stop();
        } catch (IOException e) {
            throw new UncheckedIOException("stopping Redis on port " + port, e);
        } finally {
            server = null;
        }
    }

    /** Until Redis answers PING with PONG over a plain socket (RESP inline command). */
    private void awaitPing(Duration atMost) {
        long end = System.nanoTime() + atMost.toNanos();
        IOException last = null;
        while (System.nanoTime() < end) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                s.setSoTimeout(1000);
                s.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
                byte[] reply = new byte[7];
                int n = s.getInputStream().read(reply);
                String answer = n > 0 ? new String(reply, 0, n, StandardCharsets.US_ASCII) : "";
                if (answer.startsWith("+PONG") || answer.startsWith("-NOAUTH")) { // up (with a password)
                    return;
                }
            } catch (IOException e) {
                last = e;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for Redis", e);
            }
        }
        throw new IllegalStateException("Redis on port " + port + " did not answer PING within " + atMost, last);
    }

    /** A port for Redis to bind, and again after a restart ({@link FreePorts}). */
    private static int freePort() {
        return FreePorts.next();
    }
}
