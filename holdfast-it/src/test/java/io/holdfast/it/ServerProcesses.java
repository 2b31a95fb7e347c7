package io.holdfast.it;

import static org.awaitility.Awaitility.await;

import io.holdfast.testkit.FreePorts;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A cluster of {@code holdfast server} processes on loopback, started from the CLI jar as users
 * start them: each with its Raft, client and HTTP ports and its data directory under {@code dir},
 * its output in {@code dir/nI.log}. A node can be killed (SIGKILL) and started again from its data.
 */
public final class ServerProcesses implements AutoCloseable {
    static final String JAR = System.getProperty("holdfast.jar", "../holdfast-cli/target/holdfast.jar");

    private final Path dir;
    private final int size;
    private final int[] raft;
    private final int[] client;
    private final int[] http;
    private final Process[] nodes;
    private final String peers;
    private final List<String> serverOptions;
    private final HttpClient httpClient = HttpClient.newHttpClient();

    /** Starts {@code size} nodes and waits until one leads. */
    public ServerProcesses(Path dir, int size) throws IOException {
        this(dir, size, List.of());
    }

    /**
     * Starts {@code size} nodes, each with these options of {@code holdfast server} added
     * ({@code --election-timeout 4s}), and waits until one leads.
     */
    public ServerProcesses(Path dir, int size, List<String> serverOptions) throws IOException {
        this(dir, size, serverOptions, true);
    }

    /**
     * How long nodes that start, a new cluster or a majority started again, may take to elect a
     * leader: JVM starts, the rejoin check's questions to the peers and all. CI's machine, loaded by
     * CI itself (load 25 on 2 cores), took 83 s to make three Kubernetes pods ready and more than 60
     * s to give three nodes a leader (rehearsals of 2026-11-30); the same day, two nodes started
     * again beside the verifier's scenarios gave none within 60 s (OutageTest, CI of stop 78).
     */
    public static final Duration FIRST_LEADER = Duration.ofSeconds(120);

    private ServerProcesses(Path dir, int size, List<String> serverOptions, boolean awaitLeader) throws IOException {
        this.serverOptions = List.copyOf(serverOptions);
        this.dir = dir;
        this.size = size;
        this.raft = new int[size];
        this.client = new int[size];
        this.http = new int[size];
        this.nodes = new Process[size];
        StringBuilder p = new StringBuilder();
        for (int i = 0; i < size; i++) {
            raft[i] = FreePorts.next();
            client[i] = FreePorts.next();
            http[i] = FreePorts.next();
            p.append(i == 0 ? "" : ",")
                    .append("n")
                    .append(i + 1)
                    .append("=127.0.0.1:")
                    .append(raft[i])
                    .append(':')
                    .append(client[i]);
        }
        this.peers = p.toString();
        for (int i = 0; i < size; i++) {
            start(i);
        }
        if (awaitLeader) {
            awaitLeader(FIRST_LEADER);
        }
    }

    /** The JVM's command line for the CLI with these arguments (small heap, serial GC, C1 only). */
    public static List<String> java(List<String> jvmOptions, String... args) {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1"));
        cmd.addAll(jvmOptions);
        cmd.add("-jar");
        cmd.add(JAR);
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Starts node {@code i} (again, from its data directory if it ran before). */
    public void start(int i) throws IOException {
        start(i, List.of());
    }

    /** Starts node {@code i} (again) with these JVM options added ({@code -Dname=value}). */
    public void start(int i, List<String> jvmOptions) throws IOException {
        Path log = dir.resolve("n" + (i + 1) + ".log");
        List<String> args = new ArrayList<>(List.of(
                "server",
                "--id",
                "n" + (i + 1),
                "--peers",
                peers,
                "--client-port",
                String.valueOf(client[i]),
                "--http-port",
                String.valueOf(http[i]),
                "--data-dir",
                dir.resolve("n" + (i + 1)).toString()));
        args.addAll(serverOptions);
        nodes[i] = new ProcessBuilder(java(jvmOptions, args.toArray(String[]::new)))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
    }

    /** Kills node {@code i} with SIGKILL and waits for it to be gone. */
    public void kill(int i) throws InterruptedException {
        nodes[i].destroyForcibly();
        nodes[i].waitFor();
    }

    public boolean isAlive(int i) {
        return nodes[i] != null && nodes[i].isAlive();
    }

    /** Node {@code i}'s process (its exit code, once it has stopped by itself). */
    public Process process(int i) {
        return nodes[i];
    }

    public int size() {
        return size;
    }

    /** {@code http://127.0.0.1:PORT} of node {@code i}'s HTTP port. */
    public String httpUrl(int i) {
        return "http://127.0.0.1:" + http[i];
    }

    /** Every node's HTTP URL, in node order. */
    public List<String> httpUrls() {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            out.add(httpUrl(i));
        }
        return out;
    }

    /** Node {@code i}'s client port (gRPC and frames). */
    public int clientPort(int i) {
        return client[i];
    }

    /** {@code holdfast://} naming every node's client port. */
    public String clientUri() {
        StringBuilder uri = new StringBuilder("holdfast://");
        for (int i = 0; i < size; i++) {
            uri.append(i == 0 ? "" : ",").append("127.0.0.1:").append(client[i]);
        }
        return uri.toString();
    }

    /** The index of the live node whose {@code /status} says it leads, or -1. */
    public int leader() {
        return leaderOtherThan(-1);
    }

    /**
     * The index of a live node but {@code excluded} whose {@code /status} says it leads, or -1
     * (excluded: a node that does not answer, such as a stopped one, is not asked).
     */
    public int leaderOtherThan(int excluded) {
        for (int i = 0; i < size; i++) {
            if (i == excluded) {
                continue;
            }
            if (!isAlive(i)) {
                continue;
            }
            try {
                if (status(i).contains("\"role\":\"leader\"")) {
                    return i;
                }
            } catch (IOException e) {
                // not up yet, or gone
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return -1;
            }
        }
        return -1;
    }

    /** Node {@code i}'s {@code GET /status} body (it answers within 2 s or fails). */
    public String status(int i) throws IOException, InterruptedException {
        return httpClient
                .send(
                        HttpRequest.newBuilder(URI.create(httpUrl(i) + "/status"))
                                .timeout(Duration.ofSeconds(2))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
    }

    /** Node {@code i}'s output so far ({@code dir/nI.log}). */
    public String log(int i) throws IOException {
        Path log = dir.resolve("n" + (i + 1) + ".log");
        // Decoded leniently: a node killed mid-write can leave a partial character behind.
        return Files.exists(log) ? new String(Files.readAllBytes(log), java.nio.charset.StandardCharsets.UTF_8) : "";
    }

    /**
     * Waits until a live node leads; returns its index. Fails, when none leads in time, with what
     * each node was doing: running or its exit code, and its last log line.
     */
    public int awaitLeader(Duration within) {
        int[] found = {-1};
        try {
            await().atMost(within).pollInterval(Duration.ofMillis(100)).until(() -> (found[0] = leader()) >= 0);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("no node leads within " + within + ": " + describe(), e);
        }
        return found[0];
    }

    /** Each node in one line: running or its exit code, then its last log line. */
    public String describe() {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            String state = nodes[i] == null
                    ? "never started"
                    : nodes[i].isAlive() ? "running" : "exited " + nodes[i].exitValue();
            String last;
            try {
                List<String> lines = log(i).lines()
                        .filter(l -> l.contains(" INFO ") || l.contains(" WARN ") || l.contains(" ERROR "))
                        .toList();
                last = lines.isEmpty() ? "(no log line)" : lines.get(lines.size() - 1);
            } catch (IOException e) {
                last = "(log unreadable: " + e.getMessage() + ")";
            }
            out.add("n" + (i + 1) + " " + state + ", last: " + last);
        }
        return String.join("; ", out);
    }

    /** Copies the nodes' logs to {@code target/it-logs/NAME/} (the first thing to read after a failure). */
    public void keepLogs(String name) throws IOException {
        for (int i = 1; i <= size; i++) {
            Path log = dir.resolve("n" + i + ".log");
            if (Files.exists(log)) {
                Path kept = Path.of("target", "it-logs", name.replaceAll("\\W", "_"), "n" + i + ".log");
                Files.createDirectories(kept.getParent());
                Files.copy(log, kept, StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    @Override
    public void close() {
        for (Process p : nodes) {
            if (p != null) {
                p.destroyForcibly();
            }
        }
    }

    /**
     * The clusters of one test (a JUnit extension: {@code @RegisterExtension final
     * ServerProcesses.PerTest servers = new ServerProcesses.PerTest();}): after each test, every
     * cluster it {@linkplain #start started} is stopped and its logs kept under the test's name
     * ({@link #keepLogs}), whether the test passed or not.
     */
    public static final class PerTest implements AfterEachCallback {
        private final List<ServerProcesses> started = new ArrayList<>();

        /** Starts {@code size} nodes in {@code dir} and waits until one leads, as the constructor does. */
        public ServerProcesses start(Path dir, int size) throws IOException {
            return start(dir, size, List.of());
        }

        /** The same, each node with these options of {@code holdfast server} added. */
        public ServerProcesses start(Path dir, int size, List<String> serverOptions) throws IOException {
            ServerProcesses cluster = new ServerProcesses(dir, size, serverOptions, false);
            started.add(cluster); // stopped and its logs kept even if no leader comes
            cluster.awaitLeader(FIRST_LEADER);
            return cluster;
        }

        @Override
        public void afterEach(ExtensionContext test) throws IOException {
            for (ServerProcesses cluster : started) {
                cluster.close();
                cluster.keepLogs(test.getDisplayName());
            }
            started.clear();
        }
    }
}
