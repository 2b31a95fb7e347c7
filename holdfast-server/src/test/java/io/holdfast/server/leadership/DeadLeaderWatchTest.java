package io.holdfast.server.leadership;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What one dial of a leader's Raft address tells {@link DeadLeaderWatch}: only a refusal, or a
 * connection closed without a byte, says that nothing serves there. A process that accepts and
 * keeps the connection (a live Raft server, even a stopped one: its kernel accepts for it) serves.
 * Which follower campaigns: {@link CandidacyTest}. The whole watch, with real server processes
 * killed and stopped: holdfast-it's {@code DeadLeaderElectionTest}.
 */
class DeadLeaderWatchTest {
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
    }

    private ServerSocket listening() throws IOException {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        open.add(server);
        return server;
    }

    /** What a peer does with the next connection it accepts, on a thread of its own; then it closes it. */
    private interface Peer {
        void serve(Socket accepted) throws IOException, InterruptedException;
    }

    private static void onAccept(ServerSocket server, Peer peer) {
        Thread t = new Thread(() -> {
            try (Socket accepted = server.accept()) {
                peer.serve(accepted);
            } catch (IOException | InterruptedException e) {
                // the test is over
            }
        });
        t.setDaemon(true);
        t.start();
    }

    private static String address(ServerSocket server) {
        return "127.0.0.1:" + server.getLocalPort();
    }

    @Test
    void aPortNothingListensOnIsGone() throws IOException {
        ServerSocket server = listening();
        String address = address(server);
        server.close();

        assertThat(RaftPortProbe.dial(address)).isEqualTo(RaftPortProbe.Result.GONE);
    }

    @Test
    void aListenerThatKeepsTheConnectionServesEvenIfItNeverAccepts() throws IOException {
        // Never accept()ed: the kernel completes the connection, as for a process that is stopped.
        ServerSocket server = listening();

        assertThat(RaftPortProbe.dial(address(server))).isEqualTo(RaftPortProbe.Result.SERVES);
    }

    @Test
    void aConnectionClosedWithoutAByteIsGone() throws IOException {
        // What a proxy in front of a dead process does: accept, fail to dial on, close.
        ServerSocket server = listening();
        onAccept(server, accepted -> {}); // closed at once

        assertThat(RaftPortProbe.dial(address(server))).isEqualTo(RaftPortProbe.Result.GONE);
    }

    @Test
    void aConnectionThatCarriesBytesServes() throws IOException {
        // A gRPC server may send its HTTP/2 settings first.
        ServerSocket server = listening();
        onAccept(server, accepted -> {
            accepted.getOutputStream().write(new byte[] {0, 0, 0});
            accepted.getOutputStream().flush();
            Thread.sleep(1_000);
        });

        assertThat(RaftPortProbe.dial(address(server))).isEqualTo(RaftPortProbe.Result.SERVES);
    }

    @Test
    void anAddressThatCannotBeResolvedProvesNothing() {
        assertThat(RaftPortProbe.dial("no-such-host.invalid:4654")).isEqualTo(RaftPortProbe.Result.UNKNOWN);
        assertThat(RaftPortProbe.dial("no port")).isEqualTo(RaftPortProbe.Result.UNKNOWN);
    }

    @Test
    void addressesMayBeBracketedIpv6() {
        assertThat(RaftPortProbe.address("[::1]:4654").getAddress().getHostAddress())
                .isEqualTo("0:0:0:0:0:0:0:1");
        assertThat(RaftPortProbe.address("n1.example:4654").getPort()).isEqualTo(4654);
    }
}
