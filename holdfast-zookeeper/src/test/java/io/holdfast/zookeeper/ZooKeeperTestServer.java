package io.holdfast.zookeeper;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;

/**
 * A real ZooKeeper server in the test JVM (Curator's {@code TestingServer}) with a short tick, so
 * that sessions of one second are allowed (the server's minimum is two ticks), and long sessions
 * too (maxSessionTimeout raised from its default of twenty ticks).
 */
final class ZooKeeperTestServer implements AutoCloseable {
    static final int TICK_MILLIS = 200;

    private final TestingServer server;

    private ZooKeeperTestServer(TestingServer server) {
        this.server = server;
    }

    static ZooKeeperTestServer start() throws Exception {
        Path target = Path.of("target");
        Files.createDirectories(target);
        File data = Files.createTempDirectory(target, "zookeeper-").toFile();
        InstanceSpec spec = new InstanceSpec(
                data,
                InstanceSpec.getRandomPort(),
                -1,
                -1,
                true,
                -1,
                TICK_MILLIS,
                -1,
                Map.of("minSessionTimeout", "1000", "maxSessionTimeout", "600000"));
        return new ZooKeeperTestServer(new TestingServer(spec, true));
    }

    int port() {
        return server.getPort();
    }

    String uri() {
        return "zookeeper://127.0.0.1:" + port() + "/holdfast-test";
    }

    /** Stops the server, keeping its data. */
    void stop() {
        try {
            server.stop();
        } catch (Exception e) {
            throw new IllegalStateException("stopping ZooKeeper", e);
        }
    }

    /** Starts it again on the same port and returns once it serves requests. */
    void restart() {
        try {
            server.restart();
            awaitServing();
        } catch (Exception e) {
            throw new IllegalStateException("restarting ZooKeeper", e);
        }
    }

    private void awaitServing() throws Exception {
        try (CuratorFramework probe =
                CuratorFrameworkFactory.newClient("127.0.0.1:" + port(), 10_000, 30_000, new RetryOneTime(100))) {
            probe.start();
            if (!probe.blockUntilConnected(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("ZooKeeper did not come back within 30 s");
            }
            probe.checkExists().forPath("/");
        }
    }

    @Override
    public void close() throws Exception {
        server.close();
    }
}
