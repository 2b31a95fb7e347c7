package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.server.config.ServerConfig;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A browser or {@code curl} pointed at a node's Raft port or client port (both gRPC, HTTP/2 only)
 * leaves no "Transport failed" stack trace on the node's stderr ({@link HoldfastServer#QUIET_JUL}).
 * The second test shows that the first would see the line if the level let it through.
 */
class WrongProtocolLogTest {
    @TempDir
    Path dir;

    private final List<LogRecord> published = new CopyOnWriteArrayList<>();

    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            published.add(record);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };

    @Test
    void anHttp1RequestToEitherGrpcPortLeavesNoStackTrace() throws Exception {
        List<String> lines = sendHttp1ToBothGrpcPorts();

        assertThat(lines).as("a line of gRPC's own per failed connection").isEmpty();
    }

    @Test
    void withGrpcsOwnLevelTheSameRequestsWriteTransportFailed() throws Exception {
        HoldfastServer.QUIET_JUL.forEach(l -> l.setLevel(Level.INFO));
        try {
            List<String> lines = sendHttp1ToBothGrpcPorts();

            assertThat(lines)
                    .as("the line the quiet level keeps off stderr, from both servers")
                    .filteredOn(line -> line.contains("Transport failed"))
                    .hasSizeGreaterThanOrEqualTo(2);
        } finally {
            HoldfastServer.QUIET_JUL.forEach(l -> l.setLevel(Level.WARNING));
        }
    }

    /**
     * Starts a node, sends a plain HTTP/1.1 request to its Raft port and its client port, waits until
     * each connection is closed by the node, stops the node (its event loops then have run every
     * task the closes left) and returns the messages of the records gRPC's loggers published.
     */
    private List<String> sendHttp1ToBothGrpcPorts() throws Exception {
        for (Logger l : HoldfastServer.QUIET_JUL) {
            l.addHandler(capture);
        }
        try {
            int raftPort = TestCluster.freePort();
            ServerConfig config =
                    ServerConfig.single(dir.resolve("d"), "127.0.0.1", TestCluster.freePort(), raftPort, -1);
            try (HoldfastServer node = HoldfastServer.start(config)) {
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(node::isLeader);
                for (int port : List.of(raftPort, node.clientPort())) {
                    sendAndAwaitClose(port);
                }
            }
            return published.stream()
                    .map(r -> r.getLevel() + " " + r.getMessage())
                    .toList();
        } finally {
            for (Logger l : HoldfastServer.QUIET_JUL) {
                l.removeHandler(capture);
            }
        }
    }

    private static void sendAndAwaitClose(int port) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            while (in.read(buf) >= 0) {
                // what the server sends before it closes (an HTTP/2 GOAWAY) does not matter
            }
        }
    }
}
