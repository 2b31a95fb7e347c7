package io.holdfast.redis;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * One process of Debian's {@code redis-server} (7.x: TLS, Sentinel) on loopback, for the tests the
 * embedded-redis binary (6.2, no TLS) cannot serve. It can be frozen and thawed ({@code SIGSTOP},
 * {@code SIGCONT}), as a paused host is, and killed without a word ({@code SIGKILL}).
 *
 * <p>Without a {@code redis-server} binary the test is skipped with the reason, unless {@code
 * HOLDFAST_REQUIRE_REDIS_SERVER=true} (set by CI, which installs the package): then it fails.
 */
final class RedisProcess implements AutoCloseable {
    private static final Path BINARY = Path.of("/usr/bin/redis-server");

    private final Process process;
    private final int port;
    private final Path log;

    private RedisProcess(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** Skips the calling test (or fails it, if CI requires the binary) when there is no redis-server. */
    static void requireBinary(String forWhat) {
        if (Files.isExecutable(BINARY)) {
            return;
        }
        String why = "no " + BINARY + " (Debian package redis-server), which " + forWhat + " needs";
        if ("true".equalsIgnoreCase(System.getenv("HOLDFAST_REQUIRE_REDIS_SERVER"))) {
            throw new AssertionError(why + ", and HOLDFAST_REQUIRE_REDIS_SERVER asks for it");
        }
        Assumptions.abort(why + ": skipped");
    }

    /**
     * Starts {@code redis-server [config] args...} in {@code dir}, its output in {@code dir/redis.log},
     * and waits until it accepts connections on {@code port}.
     */
    static RedisProcess start(Path dir, int port, Optional<Path> config, List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(BINARY.toString());
        config.ifPresent(c -> command.add(c.toString()));
        command.addAll(args);
        try {
            Files.createDirectories(dir);
            Path log = dir.resolve("redis.log");
            Process p = new ProcessBuilder(command)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
            RedisProcess redis = new RedisProcess(p, port, log);
            redis.awaitListening(Duration.ofSeconds(20));
            return redis;
        } catch (IOException e) {
            throw new UncheckedIOException("starting " + command, e);
        }
    }

    int port() {
        return port;
    }

    /** Freezes the process: it keeps its sockets but answers nothing, as a paused host. */
    void freeze() {
        signal("STOP");
    }

    void thaw() {
        signal("CONT");
    }

    /** Kills it at once: no shutdown, no save. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    private void signal(String name) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid()))
                    .inheritIO()
                    .start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private void awaitListening(Duration atMost) {
        long end = System.nanoTime() + atMost.toNanos();
        while (System.nanoTime() < end) {
            if (!process.isAlive()) {
                throw new IllegalStateException("redis-server exited: " + tail());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return;
            } catch (IOException e) {
                try {
                    Thread.sleep(50); // a process starting: nothing to be notified by
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", ie);
                }
            }
        }
        throw new IllegalStateException("redis-server did not listen on " + port + " within " + atMost + ": " + tail());
    }

    String tail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 8), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (!process.isAlive()) {
            return;
        }
        thaw(); // a frozen process ignores SIGTERM until it runs again
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
