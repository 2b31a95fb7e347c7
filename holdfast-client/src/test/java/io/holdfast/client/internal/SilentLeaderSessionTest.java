package io.holdfast.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.ClientOptions;
import io.holdfast.HolderInfo;
import io.holdfast.Lease;
import io.holdfast.LockInfo;
import io.holdfast.client.HoldfastProvider;
import io.holdfast.endpoint.ClientPort;
import io.holdfast.model.Reply;
import io.holdfast.node.LocalNode;
import io.holdfast.node.LocalTransport;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A whole client, not just one heartbeat: when its presumed leader is a member that accepts TCP and
 * never answers (packets dropped, no reset), the session must stay open through several TTLs,
 * because each heartbeat gives up on that member after its own short deadline and the next goes to
 * the member that can serve it. Before the fix, the runtime sent {@code keepAlive(sessionId)} with
 * the 10 s request timeout, every heartbeat went to the silent member, and the session expired
 * after one TTL. ({@link SilentLeaderTest} covers the transport's half alone.)
 */
class SilentLeaderSessionTest {
    /** Long enough that a heartbeat given up on after two intervals leaves a margin on a loaded machine. */
    private static final Duration TTL = Duration.ofSeconds(4);

    @RegisterExtension
    final Closing closing = new Closing();

    @Test
    void aSessionWhoseHeartbeatsStartAtASilentMemberStaysOpenForThreeTtls() throws Exception {
        BlackHole silent = closing.add(new BlackHole());
        LocalNode node =
                LocalNode.named("silent-session-" + UUID.randomUUID().toString().substring(0, 8));
        ClientPort live = closing.add(ClientPort.start("127.0.0.1", 0, new LocalTransport(node)));
        // Member 1 is the black hole, member 2 the live server; the default 10 s request timeout.
        ClusterTransport transport = new ClusterTransport(
                HoldfastProvider.members("holdfast://127.0.0.1:" + silent.port() + ",127.0.0.1:" + live.port()),
                ClientOptions.builder().build().requestTimeout());
        Members.Member first = transport.members().memberFor("127.0.0.1:" + silent.port());
        Members.Member second = transport.members().memberFor("127.0.0.1:" + live.port());
        assertThat(transport.members().leader()).isSameAs(first);
        // The session is opened on member 2 (opening it on the black hole would take the 10 s
        // request timeout); the runtime owns the transport and closes it.
        transport.members().noteLeader(second);
        DivertingService service = new DivertingService(transport);
        ClientRuntime client = closing.add(ClientRuntime.open(
                "holdfast", service, ClientOptions.builder().sessionTtl(TTL).build(), HoldfastProvider.CAPABILITIES));
        Lease lease = client.lock("orders/1").acquire(Duration.ofSeconds(5));
        assertThat(silent.connections()).as("nothing went to member 1 yet").isZero();

        // From the next heartbeat on, the client presumes that member 1 leads.
        long answeredBefore = service.heartbeatsTo(second);
        service.divertNextHeartbeatTo(first);
        await().atMost(TTL).until(() -> service.heartbeatsTo(first) > 0);

        await().during(TTL.multipliedBy(2))
                .atMost(TTL.multipliedBy(2).plusSeconds(2))
                .untilAsserted(() -> {
                    assertThat(client.isOpen())
                            .as("the client's session is open")
                            .isTrue();
                    assertThat(lease.isValid()).as("the lease is valid").isTrue();
                    assertThat(holders(node, "orders/1"))
                            .as("the service still has the lock held by the session")
                            .singleElement()
                            .satisfies(h -> assertThat(h.sessionId()).isEqualTo(client.sessionId()))
                            .satisfies(h -> assertThat(h.fencingToken()).isEqualTo(lease.fencingToken()));
                });

        // Member 1 was really reached and never answered; the heartbeats moved on to member 2.
        assertThat(silent.connections()).isPositive();
        assertThat(silent.bytesRead()).isPositive();
        assertThat(service.heartbeatsTo(second) - answeredBefore)
                .as("heartbeats that started at member 2 in two TTLs")
                .isGreaterThanOrEqualTo(3);
        assertThat(transport.members().leader()).isSameAs(second);
        lease.release();
    }

    private static List<HolderInfo> holders(LocalNode node, String name) {
        return node.describe(name).map(LockInfo::holders).orElse(List.of());
    }

    /**
     * The transport, counting the member each heartbeat starts at; told to, it makes the next
     * heartbeat start at a given member. (Heartbeats go one at a time, so none is in flight to set
     * the leader back when the next one is diverted.)
     */
    private static final class DivertingService extends ForwardingLockService {
        private final ClusterTransport transport;
        private final List<Members.Member> heartbeats = new CopyOnWriteArrayList<>();
        private volatile Members.Member divert;

        DivertingService(ClusterTransport transport) {
            super(transport);
            this.transport = transport;
        }

        void divertNextHeartbeatTo(Members.Member m) {
            divert = m;
        }

        long heartbeatsTo(Members.Member m) {
            return heartbeats.stream().filter(h -> h == m).count();
        }

        private void beforeHeartbeat() {
            Members.Member m = divert;
            if (m != null) {
                divert = null;
                transport.members().noteLeader(m);
            }
            heartbeats.add(transport.members().leader());
        }

        @Override
        public CompletableFuture<Reply> keepAlive(String sessionId) {
            beforeHeartbeat();
            return super.keepAlive(sessionId);
        }

        @Override
        public CompletableFuture<Reply> keepAlive(String sessionId, Duration timeout) {
            beforeHeartbeat();
            return super.keepAlive(sessionId, timeout);
        }
    }

    /** A member cut off silently: accepts connections on loopback, reads and drops every byte, never answers. */
    private static final class BlackHole extends LoopbackServer {
        private final AtomicLong bytesRead = new AtomicLong();

        BlackHole() throws IOException {
            super("black-hole");
            start();
        }

        long bytesRead() {
            return bytesRead.get();
        }

        @Override
        void serve(Socket s) {
            daemon(() -> swallow(s));
        }

        private void swallow(Socket s) {
            byte[] buffer = new byte[8192];
            try (InputStream in = s.getInputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    bytesRead.addAndGet(n);
                }
            } catch (IOException closed) {
                // the client or the black hole went away
            }
        }
    }
}
