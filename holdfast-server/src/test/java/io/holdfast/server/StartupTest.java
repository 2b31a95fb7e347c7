package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.config.StartupException;
import java.io.RandomAccessFile;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A node that cannot start says why in one line, and never half-starts. */
class StartupTest {
    @TempDir
    Path dir;

    private ServerConfig config(Path data, int raftPort) throws Exception {
        return ServerConfig.single(data, "127.0.0.1", TestCluster.freePort(), raftPort, -1);
    }

    @Test
    void aPortInUseIsNamed() throws Exception {
        try (ServerSocket taken = new ServerSocket(0)) {
            assertThatThrownBy(() -> HoldfastServer.start(config(dir.resolve("d"), taken.getLocalPort())))
                    .isInstanceOf(StartupException.class)
                    .hasMessageContaining("Raft port")
                    .hasMessageContaining(String.valueOf(taken.getLocalPort()))
                    .hasMessageContaining("in use");
        }
    }

    @Test
    void aDataDirectoryThatCannotBeCreatedIsNamed() throws Exception {
        Path file = Files.writeString(dir.resolve("plain-file"), "x");
        assertThatThrownBy(() -> HoldfastServer.start(config(file.resolve("data"), TestCluster.freePort())))
                .isInstanceOf(StartupException.class)
                .hasMessageContaining("data directory")
                .hasMessageContaining("plain-file");
    }

    @Test
    void aPeerListWithoutThisNodeIsRefused() {
        assertThatThrownBy(() -> new ServerConfig(
                        "n4",
                        ServerConfig.parsePeers("n1=127.0.0.1:4654,n2=127.0.0.1:5654"),
                        dir,
                        "127.0.0.1",
                        4653,
                        -1,
                        true,
                        Duration.ofSeconds(1)))
                .hasMessageContaining("does not include this node's id 'n4'");
        assertThatThrownBy(() -> ServerConfig.parsePeers("n1=127.0.0.1"))
                .hasMessageContaining("bad peer 'n1=127.0.0.1'");
        assertThatThrownBy(() -> ServerConfig.parsePeers("n1=h:11,n1=h:12")).hasMessageContaining("twice");
        assertThatThrownBy(() -> ServerConfig.parsePeers("n1=h:70000")).hasMessageContaining("65535");
        assertThat(ServerConfig.parsePeers("n1=h:4654,n2=h:5654:5000").get("n2").clientPort())
                .isEqualTo(5000);
        assertThat(ServerConfig.parsePeers("n1=h:4654").get("n1").clientPort()).isEqualTo(4653);
    }

    @Test
    void aDamagedSnapshotStopsTheNodeWithAClearErrorInsteadOfLoadingHalf() throws Exception {
        Path data = dir.resolve("d");
        int raftPort = TestCluster.freePort();
        ServerConfig cfg = config(data, raftPort);
        try (HoldfastServer node = HoldfastServer.start(cfg)) {
            awaitLeader(node);
            node.parts().machine().takeSnapshot();
        }
        List<Path> snapshots;
        try (Stream<Path> files = Files.walk(data)) {
            snapshots = files.filter(p -> p.getFileName().toString().startsWith("snapshot.")
                            && !p.toString().endsWith(".md5"))
                    .toList();
        }
        assertThat(snapshots).isNotEmpty();
        for (Path snapshot : snapshots) {
            try (RandomAccessFile f = new RandomAccessFile(snapshot.toFile(), "rw")) {
                f.seek(f.length() / 2);
                int b = f.read();
                f.seek(f.length() / 2);
                f.write(b ^ 0xFF);
            }
        }
        assertThatThrownBy(() -> HoldfastServer.start(cfg).close())
                .isInstanceOf(StartupException.class)
                .hasMessageContaining("damaged");
    }

    @Test
    void healthAndStatusAreServedOverHttp() throws Exception {
        ServerConfig cfg =
                ServerConfig.single(dir.resolve("h"), "127.0.0.1", TestCluster.freePort(), TestCluster.freePort(), 0);
        try (HoldfastServer node = HoldfastServer.start(cfg)) {
            awaitLeader(node);
            var http = java.net.http.HttpClient.newHttpClient();
            var base = "http://127.0.0.1:" + node.httpPort();
            var health = http.send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/health"))
                            .build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);
            var status = http.send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/status"))
                            .build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(status.body()).contains("\"role\":\"leader\"").contains("\"id\":\"n1\"");
            var post = http.send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/ready"))
                            .POST(java.net.http.HttpRequest.BodyPublishers.noBody())
                            .build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(post.statusCode()).isEqualTo(405);
        }
    }

    private static void awaitLeader(HoldfastServer node) {
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(node::isLeader);
    }
}
