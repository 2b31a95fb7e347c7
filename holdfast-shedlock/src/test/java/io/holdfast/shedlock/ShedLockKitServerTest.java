package io.holdfast.shedlock;

import io.holdfast.server.HoldfastServer;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.testkit.FreePorts;
import java.nio.file.Path;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** ShedLock's provider kit over a real Holdfast server on loopback. */
class ShedLockKitServerTest extends ShedLockKit {
    @TempDir
    static Path dir;

    private static HoldfastServer server;

    @BeforeAll
    static void start() throws Exception {
        server = HoldfastServer.start(ServerConfig.single(dir, "127.0.0.1", FreePorts.next(), FreePorts.next(), -1));
        Awaitility.await().atMost(Duration.ofSeconds(20)).until(server::isLeader);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Override
    String uri() {
        return "holdfast://127.0.0.1:" + server.clientPort();
    }
}
