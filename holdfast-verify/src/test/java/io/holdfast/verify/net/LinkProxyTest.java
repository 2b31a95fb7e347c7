package io.holdfast.verify.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LinkProxyTest {
    private Target target;
    private LinkProxy proxy;

    @BeforeEach
    void start() throws IOException {
        target = new Target();
        proxy = new LinkProxy("t", InetAddress.getByName("127.0.0.1"), 0, "127.0.0.1", target.port());
    }

    @AfterEach
    void stop() throws IOException {
        proxy.close();
        target.close();
    }

    @Test
    void bytesFlowBothWaysInPass() throws Exception {
        Pair p = connect();
        send(p.dialer, "hello");
        assertThat(receive(p.accepted, 5)).isEqualTo("hello");
        send(p.accepted, "world!");
        assertThat(receive(p.dialer, 6)).isEqualTo("world!");
        await(() -> proxy.bytesForwarded() == 11); // counted after the write returns
        assertThat(proxy.bytesDropped()).isZero();
        assertThat(proxy.connections()).isEqualTo(1);
    }

    @Test
    void aBlackholeDropsBothWaysWithoutClosingAndAHealResetsOnlyDamagedConnections() throws Exception {
        Pair damaged = connect();
        Pair idle = connect();
        proxy.blackhole();
        send(damaged.dialer, "abc");
        send(damaged.accepted, "de");
        await(() -> proxy.bytesDropped() == 5);
        assertSilentButOpen(damaged.accepted);
        assertSilentButOpen(damaged.dialer);
        Pair during = connect(); // still accepted and dialed through
        send(during.dialer, "x");
        await(() -> proxy.bytesDropped() == 6);
        assertSilentButOpen(during.accepted);

        proxy.pass();
        // a stream with a hole is never delivered: the damaged connections are reset
        assertThat(readUntilEnd(damaged.dialer)).isTrue();
        assertThat(readUntilEnd(damaged.accepted)).isTrue();
        assertThat(readUntilEnd(during.accepted)).isTrue();
        // a connection that lost nothing carries on, and new ones work
        send(idle.dialer, "ok");
        assertThat(receive(idle.accepted, 2)).isEqualTo("ok");
        Pair fresh = connect();
        send(fresh.accepted, "new");
        assertThat(receive(fresh.dialer, 3)).isEqualTo("new");
    }

    @Test
    void dropForwardDropsOnlyRequestsAndDropBackwardOnlyReplies() throws Exception {
        Pair p = connect();
        proxy.dropForward();
        assertThat(proxy.dropsForward()).isTrue();
        assertThat(proxy.dropsBackward()).isFalse();
        send(p.dialer, "req");
        await(() -> proxy.bytesDropped() == 3);
        assertSilentButOpen(p.accepted);
        send(p.accepted, "reply");
        assertThat(receive(p.dialer, 5)).isEqualTo("reply");

        proxy.pass();
        Pair q = connect();
        proxy.dropBackward();
        send(q.dialer, "req");
        assertThat(receive(q.accepted, 3)).isEqualTo("req");
        send(q.accepted, "reply");
        await(() -> proxy.bytesDropped() == 8);
        assertSilentButOpen(q.dialer);
    }

    @Test
    void aCloseInADroppedDirectionIsHeldBackUntilItPasses() throws Exception {
        Pair p = connect();
        proxy.dropForward();
        p.dialer.shutdownOutput(); // a FIN, no bytes lost
        send(p.accepted, "still");
        assertThat(receive(p.dialer, 5)).isEqualTo("still");
        assertSilentButOpen(p.accepted);
        proxy.pass();
        p.accepted.setSoTimeout(5_000);
        assertThat(p.accepted.getInputStream().read()).isEqualTo(-1);
    }

    @Test
    void cutClosesEveryConnectionAndNewOnesWork() throws Exception {
        Pair a = connect();
        Pair b = connect();
        proxy.cut();
        assertThat(readUntilEnd(a.dialer)).isTrue();
        assertThat(readUntilEnd(b.accepted)).isTrue();
        await(() -> proxy.openConnections() == 0);
        Pair c = connect();
        send(c.dialer, "again");
        assertThat(receive(c.accepted, 5)).isEqualTo("again");
        assertThat(proxy.connections()).isEqualTo(3);
    }

    @Test
    void aDelayHoldsEachChunkBackAndKeepsOrder() throws Exception {
        Pair p = connect();
        proxy.delay(Duration.ofMillis(300));
        long t0 = System.nanoTime();
        send(p.dialer, "12");
        send(p.dialer, "34");
        assertThat(receive(p.accepted, 4)).isEqualTo("1234");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
        proxy.delay(Duration.ZERO);
        assertThat(proxy.currentDelay()).isZero();
        assertThatThrownBy(() -> proxy.delay(Duration.ofMillis(-1))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aDialToADeadTargetIsReset() throws Exception {
        // The dead target is a port bound by a socket that does not listen: dials to it are
        // refused, and no other socket can get it meanwhile. (A closed listener's port could be
        // handed to another socket at once, by a test JVM running alongside, say; once a dial
        // through the proxy reached something there.)
        try (Socket dead = new Socket()) {
            dead.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
            try (LinkProxy toDead = new LinkProxy(
                            "dead", InetAddress.getByName("127.0.0.1"), 0, "127.0.0.1", dead.getLocalPort());
                    Socket s = new Socket(toDead.address().getAddress(), toDead.port())) {
                assertThat(readUntilEnd(s)).isTrue();
            }
        }
    }

    @Test
    void theHelpersSeeBytesThatDoArrive() throws Exception {
        // the negative checks above would pass vacuously if they could not see data or a close
        Pair p = connect();
        send(p.dialer, "z");
        assertThatThrownBy(() -> assertSilentButOpen(p.accepted)).isInstanceOf(AssertionError.class);
        p.dialer.close();
        assertThatThrownBy(() -> assertSilentButOpen(p.accepted)).isInstanceOf(AssertionError.class);
    }

    // --- helpers

    private record Pair(Socket dialer, Socket accepted) {}

    private Pair connect() throws Exception {
        Socket d = new Socket(proxy.address().getAddress(), proxy.port());
        Socket a = target.accepted.poll(5, TimeUnit.SECONDS);
        assertThat(a).as("target accepted").isNotNull();
        return new Pair(d, a);
    }

    private static void send(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
    }

    private static String receive(Socket s, int n) throws IOException {
        s.setSoTimeout(5_000);
        byte[] b = s.getInputStream().readNBytes(n);
        return new String(b, StandardCharsets.US_ASCII);
    }

    /** Nothing has arrived, and the connection has not been closed. */
    private static void assertSilentButOpen(Socket s) throws IOException {
        s.setSoTimeout(200);
        try {
            int b = s.getInputStream().read();
            throw new AssertionError(b < 0 ? "closed" : "received a byte");
        } catch (SocketTimeoutException expected) {
            // silent and open
        }
    }

    /** Reads until EOF or a reset: true if the connection ended within 5 s. */
    private static boolean readUntilEnd(Socket s) throws IOException {
        s.setSoTimeout(5_000);
        InputStream in = s.getInputStream();
        try {
            while (in.read() >= 0) {
                // drain
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 5 s");
            }
            Thread.sleep(5);
        }
    }

    private static final class Target implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        final BlockingQueue<Socket> accepted = new LinkedBlockingQueue<>();

        Target() throws IOException {
            Thread t = new Thread(() -> {
                try {
                    while (true) {
                        accepted.add(server.accept());
                    }
                } catch (IOException closed) {
                    // done
                }
            });
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : accepted) {
                s.close();
            }
        }
    }
}
