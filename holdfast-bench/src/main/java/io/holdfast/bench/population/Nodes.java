package io.holdfast.bench.population;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Three (or N) Holdfast server processes on loopback that this benchmark starts, kills and restarts: each runs
 * {@code io.holdfast.cli.Main server} on this JVM's own {@code java} and class path, with its data and log under
 * one directory. Reads what a node tells about itself ({@code /status}: role, applied index) and what the machine
 * tells about it (RSS from {@code /proc/PID/status}, CPU time, heap after a full GC through {@code jcmd}).
 *
 * <p>Guaranteed: every process started here is stopped by {@link #close()} (and by a shutdown hook if this JVM
 * exits first). Not guaranteed: that the ports are free at the moment a node binds them (checked once before the
 * start). Failure story: a node dies by itself (an OutOfMemoryError in its log): {@link #deadNodes()} names it and
 * the tail of its log says why.
 */
final class Nodes implements Cluster {
    /** One member: its id, ports, process. */
    static final class Node {
        final String id;
        final int clientPort;
        final int raftPort;
        final int httpPort;
        final Path dataDir;
        final Path log;
        Process process;

        Node(String id, int clientPort, int raftPort, int httpPort, Path dataDir, Path log) {
            this.id = id;
            this.clientPort = clientPort;
            this.raftPort = raftPort;
            this.httpPort = httpPort;
            this.dataDir = dataDir;
            this.log = log;
        }

        long pid() {
            return process.pid();
        }

        /** Its client address as the client names it ({@code host:port}: a connection's home). */
        String clientAddress() {
            return "127.0.0.1:" + clientPort;
        }

        @Override
        public String toString() {
            return id;
        }
    }

    /** A node's answer to {@code /status}. */
    record Status(String role, long appliedIndex) {}

    private static final Pattern ROLE = Pattern.compile("\"role\":\"([a-z]+)\"");
    private static final Pattern APPLIED = Pattern.compile("\"appliedIndex\":(\\d+)");
    private static final Pattern USED = Pattern.compile("used (\\d+)K");

    private final List<Node> nodes = new ArrayList<>();
    private final List<String> jvmOptions;
    private final List<String> serverOptions;
    private final HttpClient http;
    /** TLS and access rules for every node and client, or null for plaintext without rules. */
    private final Secured secured;

    private final String scheme;
    private final Thread hook = new Thread(this::killAll, "population-nodes-shutdown");

    /**
     * @param dir where each node's data directory and log go
     * @param basePort node i (from 0) listens on {@code basePort + 10 * i} (client), {@code +1} (Raft), {@code +2}
     *     (HTTP)
     * @param jvmOptions the servers' JVM options (e.g. {@code -Xmx1g})
     * @param serverOptions more {@code holdfast server} options for every node (e.g. {@code --no-fsync})
     * @param secured TLS and access rules for every node and client ({@link Secured}), or null for neither
     */
    Nodes(Path dir, int count, int basePort, List<String> jvmOptions, List<String> serverOptions, Secured secured) {
        this.jvmOptions = List.copyOf(jvmOptions);
        this.serverOptions = List.copyOf(serverOptions);
        this.secured = secured;
        this.scheme = secured == null ? "http" : "https";
        HttpClient.Builder http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2));
        if (secured != null) {
            http.sslContext(secured.sslContext());
        }
        this.http = http.build();
        nodes.addAll(layout(dir, count, basePort));
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Member i (from 0): id {@code n(i+1)}, ports {@code basePort + 10 i} and the next two, under {@code dir}. */
    static List<Node> layout(Path dir, int count, int basePort) {
        List<Node> nodes = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int port = basePort + 10 * i;
            String id = "n" + (i + 1);
            nodes.add(new Node(id, port, port + 1, port + 2, dir.resolve(id), dir.resolve(id + ".log")));
        }
        return nodes;
    }

    /** The members' client addresses, comma-separated. */
    static String addresses(List<Node> nodes) {
        return String.join(",", nodes.stream().map(Node::clientAddress).toList());
    }

    @Override
    public List<Node> all() {
        return nodes;
    }

    /** The client URI naming every member. */
    @Override
    public String backendUri() {
        return "holdfast://" + addresses(nodes) + (secured == null ? "" : secured.uriQuery());
    }

    @Override
    public String describe() {
        return "Holdfast, " + nodes.size() + " nodes";
    }

    /** Starts (or restarts, on its data) one node. */
    @Override
    public void start(Node n) throws IOException {
        Files.createDirectories(n.dataDir);
        StringBuilder peers = new StringBuilder();
        for (Node p : nodes) {
            peers.append(p == nodes.get(0) ? "" : ",")
                    .append(p.id)
                    .append("=127.0.0.1:")
                    .append(p.raftPort)
                    .append(':')
                    .append(p.clientPort);
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.holdfast.cli.Main", "server"));
        cmd.addAll(List.of("--id", n.id, "--peers", peers.toString(), "--client-port", "" + n.clientPort));
        cmd.addAll(List.of("--http-port", "" + n.httpPort, "--data-dir", n.dataDir.toString()));
        cmd.addAll(serverOptions);
        if (secured != null) {
            cmd.addAll(secured.serverOptions(n.id));
        }
        n.process = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(n.log.toFile()))
                .start();
    }

    /** Whether the node answers 200 on {@code /ready}. */
    @Override
    public boolean serves(Node n) {
        return get(n, "/ready").map(r -> r.statusCode() == 200).orElse(false);
    }

    /** The node's {@code /status}, empty if it does not answer. */
    @Override
    public Optional<Status> status(Node n) {
        return get(n, "/status").filter(r -> r.statusCode() == 200).map(r -> {
            Matcher role = ROLE.matcher(r.body());
            Matcher applied = APPLIED.matcher(r.body());
            return new Status(
                    role.find() ? role.group(1) : "?", applied.find() ? Long.parseLong(applied.group(1)) : -1);
        });
    }

    @Override
    public List<String> deadNodes() {
        return deadNodes(nodes);
    }

    /** Those of the nodes whose process ended, with their log's tail. */
    static List<String> deadNodes(List<Node> nodes) {
        List<String> dead = new ArrayList<>();
        for (Node n : nodes) {
            if (!n.process.isAlive()) {
                dead.add(n.id + " (exit " + n.process.exitValue() + "): " + logTail(n));
            }
        }
        return dead;
    }

    /** Resident set size in bytes ({@code VmRSS} of {@code /proc/PID/status}), -1 if unknown. */
    static long rssBytes(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** The process's CPU time so far in nanoseconds, -1 if unknown. */
    static long cpuNanos(long pid) {
        return ProcessHandle.of(pid)
                .flatMap(h -> h.info().totalCpuDuration())
                .map(Duration::toNanos)
                .orElse(-1L);
    }

    /**
     * The heap in use after a full collection ({@code jcmd PID GC.run}, then the sum of the generations' {@code
     * used} in {@code GC.heap_info}: the serial, parallel and G1 collectors'), in bytes; -1 if jcmd cannot tell.
     */
    static long liveHeapBytes(long pid) throws InterruptedException {
        try {
            jcmd(pid, "GC.run");
            return usedHeapBytes(jcmd(pid, "GC.heap_info"));
        } catch (IOException e) {
            return -1;
        }
    }

    /**
     * The sum of the heap's {@code used} in {@code jcmd PID GC.heap_info}'s answer, in bytes: the
     * serial ("def new generation", "tenured generation"), parallel ("PSYoungGen", "ParOldGen") and
     * G1 ("garbage-first heap") collectors' lines; -1 when none is there (another collector).
     */
    static long usedHeapBytes(String heapInfo) {
        long sum = 0;
        for (String line : heapInfo.split("\n")) {
            String t = line.trim();
            if (t.contains("generation")
                    || t.startsWith("garbage-first heap")
                    || t.startsWith("PSYoungGen")
                    || t.startsWith("ParOldGen")) {
                Matcher m = USED.matcher(t);
                if (m.find()) {
                    sum += Long.parseLong(m.group(1)) * 1024;
                }
            }
        }
        return sum == 0 ? -1 : sum;
    }

    private static String jcmd(long pid, String command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("jcmd", Long.toString(pid), command)
                .redirectErrorStream(true)
                .start();
        String out;
        try (InputStream in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        p.waitFor(60, TimeUnit.SECONDS);
        return out;
    }

    /**
     * Takes a backup from the node ({@code GET /api/v1/backup}: the table in its snapshot form, written under the
     * apply lock) and returns its size in bytes.
     */
    @Override
    public Optional<Long> backupBytes(Node n) throws IOException, InterruptedException {
        HttpResponse<InputStream> r = http.send(
                HttpRequest.newBuilder(URI.create(scheme + "://127.0.0.1:" + n.httpPort + "/api/v1/backup"))
                        .timeout(Duration.ofMinutes(5))
                        .build(),
                HttpResponse.BodyHandlers.ofInputStream());
        long bytes = 0;
        try (InputStream in = r.body()) {
            byte[] buf = new byte[1 << 16];
            for (int k; (k = in.read(buf)) >= 0; ) {
                bytes += k;
            }
        }
        if (r.statusCode() != 200) {
            throw new IOException("backup from " + n.id + " answered HTTP " + r.statusCode());
        }
        return Optional.of(bytes);
    }

    /** Bytes of the snapshot files in the node's data directory (the newest one Ratis keeps, and the one before). */
    static long snapshotBytesOnDisk(Node n) {
        try (var files = Files.walk(n.dataDir)) {
            return files.filter(p -> p.getFileName().toString().startsWith("snapshot."))
                    .mapToLong(p -> p.toFile().length())
                    .max()
                    .orElse(0);
        } catch (IOException e) {
            return -1;
        }
    }

    private Optional<HttpResponse<String>> get(Node n, String path) {
        try {
            return Optional.of(http.send(
                    HttpRequest.newBuilder(URI.create(scheme + "://127.0.0.1:" + n.httpPort + path))
                            .timeout(Duration.ofSeconds(2))
                            .build(),
                    HttpResponse.BodyHandlers.ofString()));
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    static boolean listening(int port) {
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static String logTail(Node n) {
        try {
            List<String> lines = Files.readAllLines(n.log);
            for (int i = lines.size() - 1; i >= 0; i--) {
                String l = lines.get(i);
                if (l.contains("OutOfMemoryError") || l.contains("ERROR")) {
                    return l.strip();
                }
            }
            return lines.isEmpty() ? "(empty log)" : lines.get(lines.size() - 1).strip();
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private void killAll() {
        killAll(nodes);
    }

    static void killAll(List<Node> nodes) {
        for (Node n : nodes) {
            if (n.process != null) {
                n.process.destroyForcibly();
            }
        }
    }

    /**
     * Stops every node with SIGTERM (so that a flight recording given in the JVM options is written), and with
     * SIGKILL any still running 20 s later.
     */
    @Override
    public void close() {
        stopAll(nodes);
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs anyway
        }
    }

    /** SIGTERM to every node, then SIGKILL to those still running 20 s later. */
    static void stopAll(List<Node> nodes) {
        for (Node n : nodes) {
            if (n.process != null) {
                n.process.destroy();
            }
        }
        for (Node n : nodes) {
            if (n.process != null) {
                try {
                    n.process.waitFor(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        killAll(nodes);
    }
}
