package io.holdfast.verify.run;

import static io.holdfast.server.leadership.LeaderHandOver.HAND_OVER_TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ConflictException;
import io.holdfast.model.MembershipChange;
import io.holdfast.server.HoldfastServer;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.testkit.FreePorts;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The verifier's node process ({@link NodeMain}, a JVM of its own on loopback) ends as {@code
 * holdfast server} does when its Raft division is gone: a node that halts says {@code HALTED <why>}
 * and exits 71, a node removed from the members says {@code REMOVED <line>} and exits 0, a node
 * whose harness is gone says {@code ORPHANED <why>} and exits 0, a node told {@code stop} says
 * {@code STOPPED} and exits 0 without handing its leadership over. None keeps its ports open as a
 * zombie.
 */
class NodeMainTest {
    @TempDir
    Path dir;

    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void killWhatIsLeft() {
        started.forEach(Process::destroyForcibly);
    }

    /** Its data directory says another cluster than the log it applies: the node halts. */
    @Test
    void aNodeThatHaltsSaysWhyAndExitsWith71() throws Exception {
        Path data = Files.createDirectories(dir.resolve("n1"));
        UUID other = UUID.randomUUID();
        Files.writeString(data.resolve("cluster-id"), other + "\n", StandardCharsets.UTF_8);
        String peers = "n1=127.0.0.1:" + FreePorts.next() + ":" + FreePorts.next();
        Node n1 = start("n1", peers, data);

        assertThat(n1.next()).startsWith("READY ");
        assertThat(n1.next())
                .startsWith("HALTED node n1 belongs to cluster " + other)
                .contains("but the log it applies is cluster");
        assertThat(n1.process.waitFor(60, TimeUnit.SECONDS)).as("exited").isTrue();
        assertThat(n1.process.exitValue()).isEqualTo(71);
    }

    @Test
    void aNodeRemovedFromTheMembersSaysSoAndExitsWith0() throws Exception {
        int raft1 = FreePorts.next();
        int client1 = FreePorts.next();
        int raft2 = FreePorts.next();
        int client2 = FreePorts.next();
        try (HoldfastServer n1 =
                HoldfastServer.start(ServerConfig.single(dir.resolve("n1"), "127.0.0.1", client1, raft1, -1))) {
            String peers = "n1=127.0.0.1:" + raft1 + ":" + client1 + ",n2=127.0.0.1:" + raft2 + ":" + client2;
            Node n2 = start("n2", peers, dir.resolve("n2"));
            assertThat(n2.next()).startsWith("READY ");
            add(n1, new MembershipChange.Add("n2", "127.0.0.1:" + raft2, "127.0.0.1:" + client2, false));
            n1.lockService()
                    .changeMembers(null, new MembershipChange.Remove("n2"))
                    .get(60, TimeUnit.SECONDS);

            assertThat(n2.next()).startsWith("REMOVED Node n2 was removed from the cluster (the members are now n1)");
            assertThat(n2.process.waitFor(60, TimeUnit.SECONDS)).as("exited").isTrue();
            assertThat(n2.process.exitValue()).isZero();
        }
    }

    /**
     * The harness that started the node is gone (SIGTERMed, SIGKILLed: its end of the node's stdin
     * is closed): the node stops instead of serving on, unseen, on ports a later run may draw.
     */
    @Test
    void aNodeWhoseHarnessIsGoneStops() throws Exception {
        String peers = "n1=127.0.0.1:" + FreePorts.next() + ":" + FreePorts.next();
        Node n1 = start("n1", peers, dir.resolve("n1"));
        assertThat(n1.next()).startsWith("READY ");

        n1.process.getOutputStream().close();

        assertThat(n1.next()).startsWith("ORPHANED ");
        assertThat(n1.process.waitFor(60, TimeUnit.SECONDS)).as("exited").isTrue();
        assertThat(n1.process.exitValue()).isZero();
    }

    /**
     * The harness stops a whole cluster at once with {@code stop} ({@link Nodes#close()}): each node
     * says {@code STOPPED} and exits 0, and the leader does not first ask a follower that is stopping
     * too to take over. With a hand-over it would wait for its answer until the hand-over's bound
     * (5 s), that follower's silence (two election timeouts: 10 s here) or the loss of its lease,
     * whichever comes first; before, every verifier run's end waited so (6.0 s here).
     */
    @Test
    void aClusterToldToStopStopsWithoutAHandOver() throws Exception {
        String peers = "n1=127.0.0.1:" + FreePorts.next() + ":" + FreePorts.next() + ",n2=127.0.0.1:" + FreePorts.next()
                + ":" + FreePorts.next();
        Node n1 = start("n1", peers, dir.resolve("n1"), 5000);
        Node n2 = start("n2", peers, dir.resolve("n2"), 5000);
        assertThat(n1.next()).startsWith("READY ");
        assertThat(n2.next()).startsWith("READY ");
        // asked at each node: the leader, once the first election is over, makes n1 lead
        org.awaitility.Awaitility.await("n1 takes the leadership")
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    boolean transferred = false;
                    for (Node n : List.of(n1, n2)) {
                        tell(n, "transfer-leader n1");
                        String answer = n.next();
                        assertThat(answer).matches("TRANSFERRED|TRANSFER-FAILED .*NotLeaderException.*");
                        transferred |= answer.equals("TRANSFERRED");
                    }
                    return transferred;
                });

        tell(n2, "stop"); // the follower is quicker to stop, as in the harness's runs
        assertThat(n2.next()).isEqualTo("STOPPED with the whole cluster");
        assertThat(n2.process.waitFor(60, TimeUnit.SECONDS)).as("n2 exited").isTrue();
        long start = System.nanoTime();
        tell(n1, "stop");

        assertThat(n1.next()).isEqualTo("STOPPED with the whole cluster");
        assertThat(n1.process.waitFor(60, TimeUnit.SECONDS)).as("n1 exited").isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - start))
                .as(
                        "the leader's exit after stop (a hand-over waits up to %s for its gone follower)",
                        HAND_OVER_TIMEOUT)
                .isLessThan(HAND_OVER_TIMEOUT.minusMillis(500));
        assertThat(List.of(n1.process.exitValue(), n2.process.exitValue())).containsOnly(0);
    }

    private static void tell(Node node, String line) throws IOException {
        node.process.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
        node.process.getOutputStream().flush();
    }

    /**
     * Adds a member, again when it made no progress while the leader sent it the log (the members
     * are then as they were, so a retry is safe): the add is this test's setup, not what it checks,
     * and a JVM that has just started on CI's loaded machine answered its first appends after the
     * staging timeout (a CI rehearsal of 2026-12-04, load about 20).
     */
    private static void add(HoldfastServer leader, MembershipChange.Add add) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                leader.lockService().changeMembers(null, add).get(60, TimeUnit.SECONDS);
                return;
            } catch (ExecutionException e) {
                if (attempt == 3
                        || !(e.getCause() instanceof ConflictException c)
                        || !c.getMessage().contains("no answer from")) {
                    throw e;
                }
            }
        }
    }

    /** A node process and the lines it prints on stdout. */
    private record Node(Process process, BlockingQueue<String> lines) {
        /** The next line, within a minute. */
        String next() throws InterruptedException {
            String line = lines.poll(60, TimeUnit.SECONDS);
            assertThat(line).as("a line from the node within 60 s").isNotNull();
            return line;
        }
    }

    private Node start(String id, String peers, Path data) throws IOException {
        return start(id, peers, data, 1000);
    }

    private Node start(String id, String peers, Path data, long electionTimeoutMillis) throws IOException {
        Process p = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx256m",
                        "-XX:+UseSerialGC",
                        "-XX:TieredStopAtLevel=1",
                        "-cp",
                        System.getProperty("java.class.path"),
                        NodeMain.class.getName(),
                        "--id",
                        id,
                        "--peers",
                        peers,
                        "--data-dir",
                        data.toString(),
                        "--http-port",
                        "-1",
                        "--election-timeout",
                        Long.toString(electionTimeoutMillis))
                .redirectError(dir.resolve(id + ".log").toFile())
                .start();
        started.add(p);
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(
                () -> {
                    try (BufferedReader in =
                            new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                        String line;
                        while ((line = in.readLine()) != null) {
                            lines.add(line);
                        }
                    } catch (IOException e) {
                        // the process is gone
                    }
                },
                "node-" + id + "-out");
        reader.setDaemon(true);
        reader.start();
        return new Node(p, lines);
    }
}
