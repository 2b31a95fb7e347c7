package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.ratis.proto.RaftProtos.RequestVoteReplyProto;
import org.apache.ratis.server.protocol.TermIndex;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What one dial of a leader's Raft address tells {@link DeadLeaderWatch}: only a refusal, or a
 * connection closed without a byte, says that nothing serves there. A process that accepts and
 * keeps the connection (a live Raft server, even a stopped one: its kernel accepts for it) serves.
 * The whole watch, with real server processes killed and stopped: holdfast-it's
 * {@code DeadLeaderElectionTest}.
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

        assertThat(DeadLeaderWatch.probe(address)).isEqualTo(DeadLeaderWatch.Probe.GONE);
    }

    @Test
    void aListenerThatKeepsTheConnectionServesEvenIfItNeverAccepts() throws IOException {
        // Never accept()ed: the kernel completes the connection, as for a process that is stopped.
        ServerSocket server = listening();

        assertThat(DeadLeaderWatch.probe(address(server))).isEqualTo(DeadLeaderWatch.Probe.SERVES);
    }

    @Test
    void aConnectionClosedWithoutAByteIsGone() throws IOException {
        // What a proxy in front of a dead process does: accept, fail to dial on, close.
        ServerSocket server = listening();
        onAccept(server, accepted -> {}); // closed at once

        assertThat(DeadLeaderWatch.probe(address(server))).isEqualTo(DeadLeaderWatch.Probe.GONE);
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

        assertThat(DeadLeaderWatch.probe(address(server))).isEqualTo(DeadLeaderWatch.Probe.SERVES);
    }

    @Test
    void anAddressThatCannotBeResolvedProvesNothing() {
        assertThat(DeadLeaderWatch.probe("no-such-host.invalid:4654")).isEqualTo(DeadLeaderWatch.Probe.UNKNOWN);
        assertThat(DeadLeaderWatch.probe("no port")).isEqualTo(DeadLeaderWatch.Probe.UNKNOWN);
    }

    private static RequestVoteReplyProto answer(long term, long lastTerm, long lastIndex) {
        return RequestVoteReplyProto.newBuilder()
                .setTerm(term)
                .setLastEntry(TermIndex.valueOf(lastTerm, lastIndex).toProto())
                .build();
    }

    @Test
    void theFollowerWhoseLogIsAheadCampaignsTheOthersLeaveItTheElection() {
        // n1 missed the dead leader's last append (n3 has entry 3963, n1 3962): n3 campaigns, n1 not.
        TermIndex n1 = TermIndex.valueOf(2, 3962);
        TermIndex n3 = TermIndex.valueOf(2, 3963);

        assertThat(DeadLeaderWatch.aheadOf(n1, "n1", 2, Map.of("n3", answer(2, 2, 3963))))
                .hasValueSatisfying(who -> assertThat(who).startsWith("n3, whose log is ahead"));
        assertThat(DeadLeaderWatch.aheadOf(n3, "n3", 2, Map.of("n1", answer(2, 2, 3962))))
                .isEmpty();
    }

    @Test
    void equalLogsGoToTheFirstIdSoOnlyOneCampaigns() {
        TermIndex same = TermIndex.valueOf(1, 6);

        assertThat(DeadLeaderWatch.aheadOf(same, "n2", 1, Map.of("n3", answer(1, 1, 6))))
                .isEmpty();
        assertThat(DeadLeaderWatch.aheadOf(same, "n3", 1, Map.of("n2", answer(1, 1, 6))))
                .hasValueSatisfying(who -> assertThat(who).startsWith("n2, whose log is as far"));
    }

    @Test
    void aVoterInANewerTermAlreadyMeansACampaignIsUnderWay() {
        TermIndex ahead = TermIndex.valueOf(1, 9);

        assertThat(DeadLeaderWatch.aheadOf(ahead, "n1", 1, Map.of("n2", answer(2, 1, 6))))
                .hasValueSatisfying(who -> assertThat(who).isEqualTo("n2 (in term 2 already)"));
    }

    @Test
    void votersThatDidNotAnswerAreLeftOut() {
        assertThat(DeadLeaderWatch.aheadOf(TermIndex.valueOf(1, 1), "n3", 1, Map.of()))
                .isEmpty();
    }

    @Test
    void addressesMayBeBracketedIpv6() {
        assertThat(DeadLeaderWatch.address("[::1]:4654").getAddress().getHostAddress())
                .isEqualTo("0:0:0:0:0:0:0:1");
        assertThat(DeadLeaderWatch.address("n1.example:4654").getPort()).isEqualTo(4654);
    }
}
