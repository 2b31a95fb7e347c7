package io.holdfast.bench.population;

import io.holdfast.bench.population.Nodes.Node;
import io.holdfast.bench.population.Nodes.Status;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A ZooKeeper ensemble of three (or N) server processes on loopback, for the population's ZooKeeper target: each
 * runs {@code org.apache.zookeeper.server.quorum.QuorumPeerMain} on this JVM's {@code java} and the given class
 * path (by default the Debian {@code zookeeper} package's jar, which names its libraries in its manifest, and
 * slf4j-simple for its log), with the servers' JVM options, its {@code zoo.cfg}, data and log under one directory:
 * production settings as the package ships them ({@code tickTime=2000}, {@code initLimit=10}, {@code syncLimit=5},
 * {@code forceSync=yes}: every transaction fsynced before it is acknowledged), no limit on a client address's
 * connections ({@code maxClientCnxns=0}; every session of the population comes from 127.0.0.1), the admin server
 * off. Member i (from 0) listens on {@code basePort + 10 i} (clients), {@code +1} (the quorum: its followers' link
 * to the leader; {@link Node#raftPort}) and {@code +2} (leader election; {@link Node#httpPort}).
 *
 * <p>A member's role and applied zxid are what it answers to the four-letter word {@code srvr} on its client port
 * ({@code Mode:}, {@code Zxid:}); a member that answers no mode (it is electing) has no status.
 *
 * <p>Guaranteed: every process started here is stopped by {@link #close()} (and by a shutdown hook if this JVM
 * exits first). Not guaranteed: that the ports are free when a server binds them (checked once before the start).
 * Failure story: the Debian package is not installed; {@link #startAll} throws IOException naming the missing jar
 * and the package to install.
 */
final class Ensemble implements Cluster {
    private static final Pattern MODE = Pattern.compile("Mode: (\\w+)");
    private static final Pattern ZXID = Pattern.compile("Zxid: 0x([0-9a-fA-F]+)");

    private final List<Node> nodes;
    private final List<String> jvmOptions;
    private final String classpath;
    private final Thread hook = new Thread(this::killAll, "population-ensemble-shutdown");

    /**
     * @param dir where each server's {@code zoo.cfg}, data directory ({@code nI}) and log ({@code nI.log}) go
     * @param jvmOptions the servers' JVM options (e.g. {@code -Xmx1g})
     * @param classpath the servers' class path (e.g. {@link Target#DEBIAN_ZOOKEEPER})
     */
    Ensemble(Path dir, int count, int basePort, List<String> jvmOptions, String classpath) {
        this.jvmOptions = List.copyOf(jvmOptions);
        this.classpath = classpath;
        this.nodes = Nodes.layout(dir, count, basePort);
        Runtime.getRuntime().addShutdownHook(hook);
    }

    @Override
    public List<Node> all() {
        return nodes;
    }

    @Override
    public String backendUri() {
        return "zookeeper://" + connectString();
    }

    /** The connection string ZooKeeper's clients take. */
    String connectString() {
        return Nodes.addresses(nodes);
    }

    @Override
    public String describe() {
        return "ZooKeeper ensemble of " + nodes.size() + " (class path " + classpath
                + "; tickTime=2000, initLimit=10, syncLimit=5, forceSync=yes, maxClientCnxns=0)";
    }

    @Override
    public void startAll(Duration timeout) throws IOException, InterruptedException {
        for (String jar : classpath.split(":")) {
            if (!Files.isRegularFile(Path.of(jar))) {
                throw new IOException(jar + " is missing: install the Debian package zookeeper"
                        + " (apt-get install zookeeper) or give --zookeeper-classpath");
            }
        }
        Cluster.super.startAll(timeout);
    }

    @Override
    public void start(Node n) throws IOException {
        Path data = n.dataDir.resolve("data");
        Files.createDirectories(data);
        Files.writeString(data.resolve("myid"), n.id.substring(1) + "\n");
        StringBuilder cfg = new StringBuilder();
        cfg.append("tickTime=2000\ninitLimit=10\nsyncLimit=5\nforceSync=yes\n")
                .append("dataDir=")
                .append(data)
                .append("\nclientPort=")
                .append(n.clientPort)
                .append("\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\nadmin.enableServer=false\n")
                .append("4lw.commands.whitelist=srvr\n");
        for (Node p : nodes) {
            cfg.append("server.")
                    .append(p.id.substring(1))
                    .append("=127.0.0.1:")
                    .append(p.raftPort)
                    .append(':')
                    .append(p.httpPort)
                    .append('\n');
        }
        Path zooCfg = n.dataDir.resolve("zoo.cfg");
        Files.writeString(zooCfg, cfg);
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of(
                "-Dzookeeper.admin.enableServer=false",
                "-Dorg.slf4j.simpleLogger.showDateTime=true",
                "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
                "-cp",
                classpath,
                "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                zooCfg.toString()));
        n.process = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(n.log.toFile()))
                .start();
    }

    /** Whether the server answers {@code srvr} as a leader or a follower. */
    @Override
    public boolean serves(Node n) {
        return status(n).isPresent();
    }

    /** The server's mode ({@code leader}, {@code follower}) and last zxid, from {@code srvr}; empty while electing. */
    @Override
    public Optional<Status> status(Node n) {
        return parse(srvr(n.clientPort));
    }

    /** The mode and zxid in an answer to {@code srvr}; empty if it names no mode. */
    static Optional<Status> parse(String reply) {
        Matcher mode = MODE.matcher(reply);
        if (!mode.find()) {
            return Optional.empty();
        }
        Matcher zxid = ZXID.matcher(reply);
        return Optional.of(new Status(mode.group(1), zxid.find() ? Long.parseLong(zxid.group(1), 16) : -1));
    }

    /** The server's answer to {@code srvr}, or "" if it gave none within 2 s. */
    static String srvr(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
            s.setSoTimeout(2_000);
            OutputStream out = s.getOutputStream();
            out.write("srvr".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            try (InputStream in = s.getInputStream()) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public List<String> deadNodes() {
        return Nodes.deadNodes(nodes);
    }

    /** ZooKeeper has no backup to take over its client port: none. */
    @Override
    public Optional<Long> backupBytes(Node n) {
        return Optional.empty();
    }

    private void killAll() {
        Nodes.killAll(nodes);
    }

    /** Stops every server with SIGTERM, and with SIGKILL any still running 20 s later. */
    @Override
    public void close() {
        Nodes.stopAll(nodes);
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs anyway
        }
    }
}
