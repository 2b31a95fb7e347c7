package io.holdfast.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.UnavailableException;
import io.holdfast.endpoint.ClientPort;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import io.holdfast.node.LocalNode;
import io.holdfast.node.LocalTransport;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A member that goes silent (its connection stays open, nothing comes back: packets dropped, no
 * reset) must not hold a session's heartbeats until the TTL is gone: a heartbeat gives up on it
 * after its own short deadline, and the next one goes to another member. Found by {@code holdfast verify}'s leader-isolated-with-holder scenario, where
 * clients on the majority side lost their sessions to a leader cut off this way.
 */
class SilentLeaderTest {
    private final List<AutoCloseable> toClose = new CopyOnWriteArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    @Test
    void aHeartbeatGivesUpOnASilentMemberInItsOwnTimeAndTheNextOneGoesElsewhere() throws Exception {
        LocalNode node =
                LocalNode.named("silent-" + UUID.randomUUID().toString().substring(0, 8));
        ClientPort server = ClientPort.start("127.0.0.1", 0, new LocalTransport(node));
        toClose.add(server);
        // Two members, both the same server behind proxies; the first one will go silent.
        SilenceableProxy first = new SilenceableProxy(server.port());
        toClose.add(first);
        SilenceableProxy second = new SilenceableProxy(server.port());
        toClose.add(second);
        ClusterTransport transport = new ClusterTransport(
                List.of(new MemberAddress("127.0.0.1", first.port()), new MemberAddress("127.0.0.1", second.port())),
                Duration.ofSeconds(10));
        toClose.add(transport);
        String session = UUID.randomUUID().toString();
        assertThat(transport
                        .submit(new Command.OpenSession(session, "test", 30_000, 0))
                        .get(10, TimeUnit.SECONDS))
                .isInstanceOf(Reply.Ok.class);
        assertThat(transport.keepAlive(session, Duration.ofSeconds(1)).get(5, TimeUnit.SECONDS))
                .isInstanceOf(Reply.Ok.class);
        assertThat(second.connections())
                .as("only the first member was used so far")
                .isZero();

        first.silence();

        // The heartbeat to the silent member ends after its own 500 ms, not the 10 s call timeout
        // (before the fix it waited for the call timeout, longer than a session's TTL)...
        long start = System.nanoTime();
        CompletableFuture<Reply> lost = transport.keepAlive(session, Duration.ofMillis(500));
        assertThatThrownBy(() -> lost.get(3, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(UnavailableException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        // ... and the next one goes to the other member and is answered.
        assertThat(transport.keepAlive(session, Duration.ofSeconds(1)).get(5, TimeUnit.SECONDS))
                .isInstanceOf(Reply.Ok.class);
        assertThat(second.connections()).isPositive();
    }

    /** Forwards TCP to a target until {@link #silence()}: then reads and drops everything, both ways. */
    private static final class SilenceableProxy extends LoopbackServer {
        private final int target;
        private volatile boolean silent;

        SilenceableProxy(int target) throws IOException {
            super("silenceable-proxy");
            this.target = target;
            start();
        }

        void silence() {
            silent = true;
        }

        @Override
        void serve(Socket in) throws IOException {
            Socket out = track(new Socket(InetAddress.getLoopbackAddress(), target));
            daemon(() -> pump(in, out));
            daemon(() -> pump(out, in));
        }

        private void pump(Socket from, Socket to) {
            byte[] buffer = new byte[8192];
            try (InputStream in = from.getInputStream()) {
                OutputStream out = to.getOutputStream();
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    if (!silent) {
                        out.write(buffer, 0, n);
                        out.flush();
                    }
                }
            } catch (IOException closed) {
                // one side went away
            }
        }
    }
}
