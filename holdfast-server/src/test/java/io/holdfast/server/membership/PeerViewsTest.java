package io.holdfast.server.membership;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.Ticker;
import io.holdfast.server.config.RaftSettings;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.retry.RetryPolicies;
import org.junit.jupiter.api.Test;

class PeerViewsTest {

    /**
     * A peer whose port is closed is told apart as not up at once, however long the question itself
     * would take (here it never ends, as a first Ratis client built in a starved JVM took longer than
     * the first round's seconds); a peer that accepts connections but does not answer is slow, and is
     * the only one a starting node waits for. Without the socket check, both were "no answer in
     * time", and a node of a cluster being formed waited for peers that were not up.
     */
    @Test
    void aPeerWhosePortIsClosedIsNotUpEvenWhenTheQuestionWouldTakeLonger() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            RaftPeer closed = peer("n2", closedPort());
            RaftPeer listening = peer("n3", silent.getLocalPort());
            Map<String, Object> answers =
                    PeerViews.askAll(List.of(closed, listening), Duration.ofMillis(500), Ticker.system(), p -> {
                        try {
                            never.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        throw new IOException("released");
                    });

            assertThat(answers.get("n2")).isInstanceOfSatisfying(PeerViews.Silence.class, s -> {
                assertThat(s.slow()).as("n2 is not up: %s", s).isFalse();
                assertThat(s.reason()).contains("nothing listens at " + closed.getAddress());
            });
            assertThat(answers.get("n3")).isInstanceOfSatisfying(PeerViews.Silence.class, s -> {
                assertThat(s.slow()).as("n3 accepts connections: %s", s).isTrue();
                assertThat(s.reason()).isEqualTo("no answer in time");
            });
            assertThat(PeerViews.slowWithoutMembers(List.of(closed, listening), answers))
                    .as("the peers asked again")
                    .containsExactly(listening);
        } finally {
            never.countDown();
        }
    }

    @Test
    void aPeerWhoseNameDoesNotResolveIsNotUp() {
        RaftPeer unnamed = RaftPeer.newBuilder()
                .setId("n4")
                .setAddress("no-such-host.invalid:9872")
                .build();
        assertThat(PeerViews.notListening(unnamed, Duration.ofMillis(500)))
                .hasValueSatisfying(reason -> assertThat(reason).contains("does not resolve"));
    }

    /**
     * A one-shot client's call is answered before its client is closed, and the client goes to the
     * closer once, whether the call answered or threw: Ratis's close can wait seconds for its
     * channels, and closed in try-with-resources it held start-up questions "no answer in time".
     */
    @Test
    void aOneShotCallIsAnsweredBeforeItsClientIsClosed() throws Exception {
        List<Runnable> closes = new ArrayList<>();
        Executor kept = closes::add;
        String answer = OneShotClient.call(builder(), client -> "answered", kept);
        assertThat(answer).isEqualTo("answered");
        assertThat(closes).as("the close, handed to the closer, not run yet").hasSize(1);

        IOException thrown = new IOException("refused");
        try {
            OneShotClient.call(
                    builder(),
                    client -> {
                        throw thrown;
                    },
                    kept);
        } catch (IOException e) {
            assertThat(e).isSameAs(thrown);
        }
        assertThat(closes).as("a call that threw hands its client over too").hasSize(2);
        closes.forEach(Runnable::run); // the closes themselves end quietly
    }

    private static RaftClient.Builder builder() throws IOException {
        return OneShotClient.builder(
                RaftGroup.valueOf(RaftSettings.GROUP_ID, peer("n1", closedPort())),
                new Parameters(),
                Duration.ofSeconds(1),
                RetryPolicies.noRetry());
    }

    private static RaftPeer peer(String id, int port) {
        return RaftPeer.newBuilder().setId(id).setAddress("127.0.0.1:" + port).build();
    }

    /** A loopback port nothing listens on (bound, then closed). */
    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
