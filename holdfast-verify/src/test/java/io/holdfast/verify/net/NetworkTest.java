package io.holdfast.verify.net;

import static io.holdfast.verify.net.LinkProxyTest.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NetworkTest {
    @TempDir
    Path dir;

    private final List<EchoServer> servers = new ArrayList<>();
    private Network net;

    @BeforeEach
    void start() throws IOException {
        List<Network.NodePorts> ports = new ArrayList<>();
        for (int j = 1; j <= 3; j++) {
            EchoServer raft = new EchoServer("n" + j + "/raft");
            EchoServer client = new EchoServer("n" + j + "/client");
            servers.add(raft);
            servers.add(client);
            ports.add(new Network.NodePorts(raft.port(), client.port()));
        }
        net = Network.start(ports, List.of("c1", "c2"), dir);
    }

    @AfterEach
    void stop() throws IOException {
        net.close();
        for (EchoServer s : servers) {
            s.close();
        }
    }

    @Test
    void linuxLetsUsBindAnyLoopbackAddress() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.1.2.3"))) {
            assertThat(s.getInetAddress().getHostAddress()).isEqualTo("127.1.2.3");
        }
    }

    @Test
    void theAddressSchemeAndTheHostsFiles() throws IOException {
        assertThat(net.address("n1", "n2").getHostAddress()).isEqualTo("127.1.1.2");
        assertThat(net.address("n3", "n1").getHostAddress()).isEqualTo("127.1.3.1");
        assertThat(net.address("c2", "n3").getHostAddress()).isEqualTo("127.2.2.3");
        Network.NodePorts p2 = net.ports("n2");
        assertThat(net.link("c2->n3").client().port()).isEqualTo(net.ports("n3").clientPort());
        assertThat(net.link("n1", "n2").raft().address().getAddress().getHostAddress())
                .isEqualTo("127.1.1.2");
        assertThat(net.link("n1", "n2").raft().port()).isEqualTo(p2.raftPort());
        assertThat(net.peers())
                .startsWith("n1=n1.holdfast:" + net.ports("n1").raftPort() + ":"
                        + net.ports("n1").clientPort() + ",n2=n2.holdfast:");
        assertThat(net.clientUri())
                .isEqualTo("holdfast://n1.holdfast:" + net.ports("n1").clientPort() + ",n2.holdfast:" + p2.clientPort()
                        + ",n3.holdfast:" + net.ports("n3").clientPort());
        assertThat(net.links()).hasSize(5 * 3);
        assertThat(Files.readAllLines(net.hostsFile("c1")))
                .contains(
                        "127.0.0.1 localhost",
                        "127.2.1.1 n1.holdfast",
                        "127.2.1.2 n2.holdfast",
                        "127.2.1.3 n3.holdfast");
        assertThat(net.jvmArgs("n2")).containsExactly("-Djdk.net.hosts.file=" + net.hostsFile("n2"));
        assertThatThrownBy(() -> net.link("c1->c2")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> net.isolate("c9")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aChildJvmResolvesThroughItsHostsFileOnlyAndReachesTheNodeThroughItsOwnProxy() throws Exception {
        String self = InetAddress.getLocalHost().getHostName(); // the system resolver knows it here
        List<String> out = runChild(
                net.jvmArgs("n1"),
                "n2.holdfast",
                "n3.holdfast",
                "nowhere.holdfast",
                "localhost-name",
                "connect:n2.holdfast:" + net.ports("n2").raftPort());
        assertThat(out)
                .contains(
                        "RESOLVED n2.holdfast 127.1.1.2",
                        "RESOLVED n3.holdfast 127.1.1.3",
                        "UNKNOWN nowhere.holdfast",
                        "LOCALHOST ok",
                        "REPLY n2/raft ping");
        assertThat(net.link("n1->n2").raft().bytesForwarded()).isPositive();
        assertThat(net.link("n3->n2").raft().connections()).isZero();

        // no fallback to the system resolver: a file without this machine's name does not resolve it
        Path bare = dir.resolve("bare-hosts");
        Files.writeString(bare, "127.1.1.2 n2.holdfast\n");
        List<String> bareOut = runChild(List.of("-Djdk.net.hosts.file=" + bare), self, "localhost-name");
        assertThat(runChild(List.of(), self))
                .containsExactly(
                        "RESOLVED " + self + " " + InetAddress.getByName(self).getHostAddress());
        assertThat(bareOut.get(0)).isEqualTo("UNKNOWN " + self);
        assertThat(bareOut.get(1)).startsWith("LOCALHOST fail");
    }

    @Test
    void isolateStopsTrafficToAndFromANodeAndHealRestoresIt() throws Exception {
        try (Line c1n2 = new Line(net, "c1", "n2", false);
                Line n1n2 = new Line(net, "n1", "n2", true);
                Line n2n3 = new Line(net, "n2", "n3", true);
                Line n1n3 = new Line(net, "n1", "n3", true)) {
            for (Line l : List.of(c1n2, n1n2, n2n3, n1n3)) {
                assertThat(l.ask("a")).endsWith(" a");
            }
            net.isolate("n2");
            assertThat(c1n2.askSilent("b")).isTrue();
            assertThat(n1n2.askSilent("b")).isTrue();
            assertThat(n2n3.askSilent("b")).isTrue();
            assertThat(n1n3.ask("b")).isEqualTo("n3/raft b"); // not involved
            net.heal();
        }
        try (Line again = new Line(net, "c1", "n2", false)) {
            assertThat(again.ask("c")).isEqualTo("n2/client c");
        }
    }

    @Test
    void oneWayDropsOnlyTheDataFromOneSide() throws Exception {
        net.oneWay("n1", "n2");
        try (Line n1n2 = new Line(net, "n1", "n2", true)) {
            long before = n1n2.proxy().bytesDropped();
            assertThat(n1n2.askSilent("x")).isTrue(); // n1's request lost
            assertThat(n1n2.proxy().bytesDropped()).isGreaterThan(before);
        }
        try (Line n2n1 = new Line(net, "n2", "n1", true)) {
            n2n1.send("y"); // n2's request arrives, n1's reply is lost
            await(() -> n2n1.proxy().bytesForwarded() >= 2 && n2n1.proxy().bytesDropped() >= 10);
            assertThat(n2n1.silent()).isTrue();
        }
    }

    @Test
    void faultsSetExactlyTheRightLinks() {
        net.partition(Set.of("n1", "c1"), Set.of("n2", "n3"));
        assertThat(net.droppingLinks())
                .containsExactlyInAnyOrder("n1->n2", "n1->n3", "n2->n1", "n3->n1", "c1->n2", "c1->n3");
        assertThat(net.link("n2->n1").raft().dropsForward()).isTrue();
        assertThat(net.link("n2->n1").client().dropsBackward()).isTrue();
        net.heal();
        assertThat(net.droppingLinks()).isEmpty();

        net.isolate("n3");
        assertThat(net.droppingLinks())
                .containsExactlyInAnyOrder("n1->n3", "n2->n3", "n3->n1", "n3->n2", "c1->n3", "c2->n3");
        net.heal();

        net.oneWay("n1", "n2");
        assertThat(net.droppingLinks()).containsExactlyInAnyOrder("n1->n2", "n2->n1");
        for (LinkProxy p : net.link("n1->n2").proxies()) {
            assertThat(p.dropsForward()).isTrue();
            assertThat(p.dropsBackward()).isFalse();
        }
        for (LinkProxy p : net.link("n2->n1").proxies()) {
            assertThat(p.dropsForward()).isFalse();
            assertThat(p.dropsBackward()).isTrue();
        }
        net.heal();

        net.oneWay("n3", "c2"); // replies to c2 lost, its requests arrive
        assertThat(net.droppingLinks()).containsExactly("c2->n3");
        assertThat(net.link("c2->n3").client().dropsBackward()).isTrue();
        assertThat(net.link("c2->n3").client().dropsForward()).isFalse();
        net.heal();

        net.delay("c1", "n1", Duration.ofMillis(50));
        assertThat(net.link("c1->n1").client().currentDelay()).isEqualTo(Duration.ofMillis(50));
        assertThat(net.link("c1->n2").client().currentDelay()).isZero();
        net.heal();
        assertThat(net.link("c1->n1").client().currentDelay()).isZero();

        assertThatThrownBy(() -> net.partition(Set.of("n1"), Set.of("n1")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> net.oneWay("c1", "c2")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void cutResetsAPartysConnectionsOnly() throws Exception {
        try (Line c1n1 = new Line(net, "c1", "n1", false);
                Line n2n1 = new Line(net, "n2", "n1", true);
                Line c2n1 = new Line(net, "c2", "n1", false)) {
            assertThat(c1n1.ask("a")).isNotNull();
            assertThat(n2n1.ask("a")).isNotNull();
            assertThat(c2n1.ask("a")).isNotNull();
            net.cut("c1");
            assertThat(c1n1.ended()).isTrue();
            assertThat(c2n1.ask("b")).isEqualTo("n1/client b");
            net.cut("n1"); // incoming links too
            assertThat(n2n1.ended()).isTrue();
            assertThat(c2n1.ended()).isTrue();
        }
        try (Line fresh = new Line(net, "c1", "n1", false)) {
            assertThat(fresh.ask("c")).isEqualTo("n1/client c");
        }
    }

    @Test
    void startFailsCleanlyWhenAProxyAddressIsTaken() throws Exception {
        int port = servers.get(0).port();
        // the network of this test holds 127.1.1.1:port already
        assertThatThrownBy(() -> Network.start(
                        List.of(new Network.NodePorts(port, servers.get(1).port())), List.of(), dir.resolve("x")))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("127.1.1.1");
    }

    // --- helpers

    private static List<String> runChild(List<String> jvmArgs, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(HostsProbe.class.getName());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader in =
                new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String l;
            while ((l = in.readLine()) != null) {
                lines.add(l);
            }
        }
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("child output %s", lines).isZero();
        return lines;
    }

    /** A connection from a dialer to a node's Raft or client port, through the dialer's proxy. */
    private static final class Line implements AutoCloseable {
        private final Link link;
        private final boolean raft;
        private final Socket s;
        private final PrintWriter out;
        private final BufferedReader in;

        Line(Network net, String from, String to, boolean raft) throws IOException {
            this.link = net.link(from, to);
            this.raft = raft;
            Network.NodePorts p = net.ports(to);
            s = new Socket(net.address(from, to), raft ? p.raftPort() : p.clientPort());
            out = new PrintWriter(s.getOutputStream(), true, StandardCharsets.US_ASCII);
            in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
        }

        LinkProxy proxy() {
            return raft ? link.raft() : link.client();
        }

        void send(String text) {
            out.println(text);
        }

        String ask(String text) throws IOException {
            send(text);
            s.setSoTimeout(5_000);
            return in.readLine();
        }

        /** Sends, waits until the proxy has dropped bytes, and checks that no reply comes. */
        boolean askSilent(String text) throws Exception {
            long before = proxy().bytesDropped();
            send(text);
            await(() -> proxy().bytesDropped() > before);
            return silent();
        }

        boolean silent() throws IOException {
            s.setSoTimeout(200);
            try {
                in.readLine(); // a reply or the end: not silent
                return false;
            } catch (SocketTimeoutException e) {
                return true;
            }
        }

        boolean ended() throws IOException {
            s.setSoTimeout(5_000);
            try {
                while (in.readLine() != null) {
                    // drain
                }
                return true;
            } catch (SocketTimeoutException e) {
                return false;
            } catch (IOException reset) {
                return true;
            }
        }

        @Override
        public void close() throws IOException {
            s.close();
        }
    }

    /** A node's port: answers each line with "<tag> <line>". */
    private static final class EchoServer implements AutoCloseable {
        private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        private final List<Socket> accepted = new ArrayList<>();

        EchoServer(String tag) throws IOException {
            Thread t = new Thread(() -> {
                try {
                    while (true) {
                        Socket s = server.accept();
                        synchronized (accepted) {
                            accepted.add(s);
                        }
                        Thread h = new Thread(() -> serve(s, tag));
                        h.setDaemon(true);
                        h.start();
                    }
                } catch (IOException closed) {
                    // done
                }
            });
            t.setDaemon(true);
            t.start();
        }

        private static void serve(Socket s, String tag) {
            try (s) {
                BufferedReader in =
                        new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
                PrintWriter out = new PrintWriter(s.getOutputStream(), true, StandardCharsets.US_ASCII);
                String l;
                while ((l = in.readLine()) != null) {
                    out.println(tag + " " + l);
                }
            } catch (IOException e) {
                // connection gone
            }
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
            synchronized (accepted) {
                for (Socket s : accepted) {
                    s.close();
                }
            }
        }
    }
}
