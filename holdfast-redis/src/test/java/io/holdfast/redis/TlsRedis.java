package io.holdfast.redis;

import io.holdfast.testkit.FreePorts;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Debian's {@code redis-server} (7.x, built with TLS) serving TLS only, on loopback and a free port,
 * with a certificate and key and asking clients for a certificate signed by a CA
 * ({@code tls-auth-clients yes}). The embedded-redis binary of the other tests has no TLS.
 */
final class TlsRedis implements AutoCloseable {
    private final RedisProcess process;

    private TlsRedis(RedisProcess process) {
        this.process = process;
    }

    /** Skipped without redis-server, unless CI requires it (see {@link RedisProcess}). */
    static TlsRedis startOrSkip(Path cert, Path key, Path ca) {
        RedisProcess.requireBinary("the TLS test");
        int port = FreePorts.next();
        Path dir = Path.of("target", "redis-tls-" + port).toAbsolutePath();
        return new TlsRedis(RedisProcess.start(
                dir,
                port,
                Optional.empty(),
                List.of(
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
                        dir.toString())));
    }

    int port() {
        return process.port();
    }

    @Override
    public void close() throws InterruptedException {
        process.close();
    }
}
