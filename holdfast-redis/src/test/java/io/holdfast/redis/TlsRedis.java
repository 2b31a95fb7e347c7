package io.holdfast.redis;

import io.holdfast.testkit.FreePorts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Debian's {@code redis-server} (7.x, built with TLS) serving TLS only, on loopback and a free port,
 * with a certificate and key and asking clients for a certificate signed by a CA
 * ({@code tls-auth-clients yes}). The embedded-redis binary of the other tests has no TLS.
 *
 * <p>Without a {@code redis-server} binary the test is skipped with the reason, unless {@code
 * HOLDFAST_REQUIRE_REDIS_SERVER=true} (set by CI, which installs the package): then it fails.
 */
final class TlsRedis implements AutoCloseable {
    private final Process process;
    private final int port;
    private final Path log;

    private TlsRedis(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    static TlsRedis startOrSkip(Path cert, Path key, Path ca) {
        Optional<Path> binary = Optional.of(Path.of("/usr/bin/redis-server")).filter(Files::isExecutable);
        if (binary.isEmpty()) {
            String why = "no /usr/bin/redis-server (Debian package redis-server), which the TLS test needs";
            if ("true".equalsIgnoreCase(System.getenv("HOLDFAST_REQUIRE_REDIS_SERVER"))) {
                throw new AssertionError(why + ", and HOLDFAST_REQUIRE_REDIS_SERVER asks for it");
            }
            Assumptions.abort(why + ": skipped");
        }
        int port = FreePorts.next();
        try {
            Path dir = Files.createDirectories(
                    Path.of("target", "redis-tls-" + port).toAbsolutePath());
            Path log = dir.resolve("redis.log");
            Process p = new ProcessBuilder(List.of(
                            binary.get().toString(),
                            "--port",
                            "0",
                            "--tls-port",
                            String.valueOf(port),
                            "--bind",
                            "127.0.0.1",
                            "--tls-cert-file",
                            cert.toString(),
                            "--tls-key-file",
                            key.toString(),
                            "--tls-ca-cert-file",
                            ca.toString(),
                            "--tls-auth-clients",
                            "yes",
                            "--save",
                            "",
                            "--appendonly",
                            "no",
                            "--dir",
                            dir.toString()))
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            TlsRedis redis = new TlsRedis(p, port, log);
            redis.awaitListening(Duration.ofSeconds(20));
            return redis;
        } catch (IOException e) {
            throw new UncheckedIOException("starting redis-server with TLS on port " + port, e);
        }
    }

    int port() {
        return port;
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

    private String tail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
