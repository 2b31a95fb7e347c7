package io.holdfast.floors;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.apache.curator.test.TestingZooKeeperServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/**
 * The reference to beat: a ZooKeeper ensemble (1 or 3 servers, ZooKeeper's own quorum code, in this process) and
 * one plain ZooKeeper client connected to the leader, each write a durable sequential create of the entry. Unlike
 * the Raft engines, the write crosses a client connection (loopback TCP), as every ZooKeeper write does; ZooKeeper
 * fsyncs its transaction log before acknowledging ({@code zookeeper.forceSync}, on by default).
 */
final class ZooKeeperEngine implements Engine {
    private TestingCluster cluster;

    ZooKeeperEngine(String name) {}

    private ZooKeeper zk;

    @Override
    public String name() {
        return "zookeeper";
    }

    @Override
    public void start(int nodes, Path dir, boolean fsync, Map<String, String> settings) throws Exception {
        // Read once by ZooKeeper's transaction log class: set before any server starts.
        System.setProperty("zookeeper.forceSync", fsync ? "yes" : "no");
        settings.forEach(System::setProperty);
        List<InstanceSpec> specs = new ArrayList<>();
        for (int i = 1; i <= nodes; i++) {
            specs.add(new InstanceSpec(
                    Files.createDirectories(dir.resolve("zk" + i)).toFile(),
                    Ports.free(),
                    Ports.free(),
                    Ports.free(),
                    true,
                    i,
                    2000,
                    60));
        }
        cluster = new TestingCluster(specs);
        cluster.start();
        InstanceSpec leader = awaitLeader();
        CountDownLatch connected = new CountDownLatch(1);
        zk = new ZooKeeper("127.0.0.1:" + leader.getPort(), 30_000, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        if (!connected.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("ZooKeeper: the client did not connect in 30 s");
        }
        zk.create("/floor", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
    }

    private InstanceSpec awaitLeader() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            for (TestingZooKeeperServer s : cluster.getServers()) {
                String mode = mode(s.getInstanceSpec().getPort());
                if (mode.equals("leader") || mode.equals("standalone")) {
                    return s.getInstanceSpec();
                }
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException("ZooKeeper: no leader after 30 s");
    }

    /** The server's mode from its {@code srvr} command (on ZooKeeper's default four-letter-word list). */
    private static String mode(int port) {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.getOutputStream().write("srvr".getBytes(StandardCharsets.US_ASCII));
            String out = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            for (String line : out.split("\n")) {
                if (line.startsWith("Mode: ")) {
                    return line.substring(6).trim();
                }
            }
        } catch (IOException e) {
            // not answering yet
        }
        return "";
    }

    @Override
    public CompletableFuture<byte[]> write(byte[] entry) {
        CompletableFuture<byte[]> answer = new CompletableFuture<>();
        zk.create(
                "/floor/w-",
                entry,
                ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT_SEQUENTIAL,
                (rc, path, ctx, name) -> {
                    if (rc == KeeperException.Code.OK.intValue()) {
                        answer.complete(entry);
                    } else {
                        answer.completeExceptionally(KeeperException.create(KeeperException.Code.get(rc), path));
                    }
                },
                null);
        return answer;
    }

    @Override
    public long applied() {
        try {
            return zk.exists("/floor", false).getNumChildren();
        } catch (Exception e) {
            throw new IllegalStateException("ZooKeeper: cannot count the writes: " + e, e);
        }
    }

    @Override
    public boolean durable() {
        return !"no".equalsIgnoreCase(System.getProperty("zookeeper.forceSync", "yes"));
    }

    @Override
    public void close() throws Exception {
        if (zk != null) {
            zk.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }
}
