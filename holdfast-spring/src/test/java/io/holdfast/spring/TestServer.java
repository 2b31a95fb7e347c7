package io.holdfast.spring;

import io.holdfast.server.HoldfastServer;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.config.StartupException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.awaitility.Awaitility;

/** A real single Holdfast node on loopback, with a temporary data directory. */
final class TestServer implements AutoCloseable {
    private static TestServer shared;

    final HoldfastServer server;
    final String uri;

    private TestServer() {
        try {
            Path dir = Files.createTempDirectory("holdfast-spring-test-");
            server = HoldfastServer.start(ServerConfig.single(dir, "127.0.0.1", freePort(), freePort(), -1));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (StartupException e) {
            throw new IllegalStateException(e);
        }
        uri = "holdfast://127.0.0.1:" + server.clientPort();
        Awaitility.await().atMost(Duration.ofSeconds(20)).until(server::isLeader);
    }

    /** One node for the test classes that do not stop it; it lives as long as the test JVM. */
    static synchronized TestServer shared() {
        if (shared == null) {
            shared = new TestServer();
            Runtime.getRuntime().addShutdownHook(new Thread(shared::close));
        }
        return shared;
    }

    /** A node of its own, for a test that stops it. */
    static TestServer own() {
        return new TestServer();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() {
        server.close();
    }
}
