package io.holdfast.etcd;

import io.holdfast.testkit.FreePorts;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.awaitility.core.TerminalFailureException;
import org.junit.jupiter.api.Assumptions;

/**
 * A real etcd process for the tests: the {@code etcd} binary (Debian package etcd-server) on free
 * loopback ports, its data under {@code target/}. Stopping keeps the data; starting again uses the
 * same ports and data, as a restarted etcd member would.
 *
 * <p>Without an {@code etcd} binary the tests are skipped with the reason, unless {@code
 * -Dholdfast.require.etcd=true} or {@code HOLDFAST_REQUIRE_ETCD=true} is set (CI sets it): then
 * they fail, so a CI machine without etcd cannot pass by skipping.
 */
final class EtcdServer {
    private final String binary;
    private final String name;
    private final Path dataDir;
    private final Path logFile;
    private final int clientPort;
    private final int peerPort;
    private String initialCluster;
    private Process process;
    /** With TLS: the server's certificate, key and the CA its clients' certificates must chain to. */
    private Path tlsCert;

    private Path tlsKey;
    private Path tlsCa;
    private int tlsPort;

    private EtcdServer(String binary, String name, Path dataDir, int clientPort, int peerPort) {
        this.binary = binary;
        this.name = name;
        this.dataDir = dataDir;
        this.logFile = dataDir.resolveSibling(dataDir.getFileName() + ".log");
        this.clientPort = clientPort;
        this.peerPort = peerPort;
        this.initialCluster = name + "=http://127.0.0.1:" + peerPort;
    }

    /**
     * Starts a fresh etcd that also serves TLS on {@link #tlsPort()} with this certificate and key,
     * requiring client certificates signed by {@code ca} there (its plain port stays, for the health
     * check).
     */
    static EtcdServer startTlsOrSkip(Path cert, Path key, Path ca) {
        String binary = binaryOrSkip();
        try {
            Path base = Path.of("target", "etcd");
            Files.createDirectories(base);
            EtcdServer server = new EtcdServer(
                    binary,
                    "default",
                    Files.createTempDirectory(base.toAbsolutePath(), "data-"),
                    FreePorts.next(),
                    FreePorts.next());
            server.tlsCert = cert;
            server.tlsKey = key;
            server.tlsCa = ca;
            server.tlsPort = FreePorts.next();
            server.start();
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    int tlsPort() {
        return tlsPort;
    }

    /** Starts a fresh etcd, or skips (or fails, when etcd is required) if there is no binary. */
    static EtcdServer startOrSkip() {
        List<EtcdServer> one = clusterOrSkip(1);
        return one.get(0);
    }

    /**
     * Starts a fresh cluster of {@code size} members on loopback, or skips (or fails, when etcd is
     * required) if there is no binary; returns once every member is healthy.
     */
    static List<EtcdServer> clusterOrSkip(int size) {
        String binary = binaryOrSkip();
        try {
            Path base = Path.of("target", "etcd");
            Files.createDirectories(base);
            List<EtcdServer> members = new ArrayList<>();
            for (int i = 0; i < size; i++) {
                Path dir = Files.createTempDirectory(base.toAbsolutePath(), "data-");
                members.add(new EtcdServer(
                        binary, size == 1 ? "default" : "m" + i, dir, FreePorts.next(), FreePorts.next()));
            }
            String initial = String.join(
                    ",",
                    members.stream()
                            .map(m -> m.name + "=http://127.0.0.1:" + m.peerPort)
                            .toList());
            for (EtcdServer m : members) {
                m.initialCluster = initial;
                m.launch();
            }
            for (EtcdServer m : members) {
                m.awaitHealthy(Duration.ofSeconds(60));
            }
            return members;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String binaryOrSkip() {
        Optional<String> binary = findBinary();
        if (binary.isEmpty()) {
            String why =
                    "no etcd binary on PATH (install the Debian package etcd-server, or set -Dholdfast.etcd.binary)";
            if (required()) {
                throw new AssertionError(
                        why + ", and holdfast.require.etcd / HOLDFAST_REQUIRE_ETCD asks for the etcd tests");
            }
            Assumptions.abort(why + ": the etcd tests are skipped");
        }
        return binary.get();
    }

    static boolean required() {
        return Boolean.getBoolean("holdfast.require.etcd")
                || "true".equalsIgnoreCase(System.getenv("HOLDFAST_REQUIRE_ETCD"));
    }

    static Optional<String> findBinary() {
        String configured = System.getProperty("holdfast.etcd.binary");
        if (configured != null && !configured.isBlank()) {
            return Files.isExecutable(Path.of(configured)) ? Optional.of(configured) : Optional.empty();
        }
        String path = System.getenv().getOrDefault("PATH", "");
        List<String> dirs = new ArrayList<>(List.of(path.split(File.pathSeparator)));
        dirs.add("/usr/bin");
        dirs.add("/usr/local/bin");
        for (String d : dirs) {
            if (d.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(d, "etcd");
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate.toString());
            }
        }
        return Optional.empty();
    }

    String uri() {
        return "etcd://127.0.0.1:" + clientPort;
    }

    /** This member's client URL, for a URI listing several members. */
    String endpoint() {
        return "127.0.0.1:" + clientPort;
    }

    /** Starts it again (or the first time) and returns once it is healthy. */
    synchronized void start() {
        if (process != null && process.isAlive()) {
            return;
        }
        launch();
        awaitHealthy(Duration.ofSeconds(30));
    }

    private synchronized void launch() {
        String client = "http://127.0.0.1:" + clientPort;
        if (tlsCert != null) {
            client += ",https://127.0.0.1:" + tlsPort;
        }
        String peer = "http://127.0.0.1:" + peerPort;
        List<String> command = new ArrayList<>(List.of(
                binary,
                "--name",
                name,
                "--data-dir",
                dataDir.toString(),
                "--listen-client-urls",
                client,
                "--advertise-client-urls",
                client,
                "--listen-peer-urls",
                peer,
                "--initial-advertise-peer-urls",
                peer,
                "--initial-cluster",
                initialCluster,
                "--log-level",
                "warn"));
        if (tlsCert != null) {
            command.addAll(List.of(
                    "--cert-file",
                    tlsCert.toString(),
                    "--key-file",
                    tlsKey.toString(),
                    "--trusted-ca-file",
                    tlsCa.toString(),
                    "--client-cert-auth"));
        }
        try {
            process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + binary, e);
        }
    }

    /** Freezes the process (SIGSTOP): it keeps its connections and answers nothing until {@link #resume()}. */
    synchronized void pause() {
        signal("-STOP");
    }

    /** Lets a {@linkplain #pause() paused} process run again (SIGCONT). */
    synchronized void resume() {
        signal("-CONT");
    }

    private void signal(String signal) {
        if (process == null) {
            throw new IllegalStateException("etcd is not running");
        }
        try {
            Process kill = new ProcessBuilder("kill", signal, Long.toString(process.pid()))
                    .redirectErrorStream(true)
                    .start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill " + signal + " " + process.pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not run kill " + signal, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while signalling etcd", e);
        }
    }

    synchronized void stop() {
        if (process == null) {
            return;
        }
        if (process.isAlive()) {
            signal("-CONT"); // a paused etcd would not act on the TERM until it runs again
        }
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while stopping etcd", e);
        }
        process = null;
    }

    private void awaitHealthy(Duration atMost) {
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
        HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + clientPort + "/health"))
                .timeout(Duration.ofSeconds(1))
                .build();
        AtomicReference<String> last = new AtomicReference<>("no answer");
        try {
            Awaitility.await("etcd healthy")
                    .atMost(atMost)
                    .pollDelay(Duration.ZERO)
                    .pollInterval(Duration.ofMillis(50))
                    .failFast("etcd exited", () -> !process.isAlive())
                    .until(() -> {
                        try {
                            HttpResponse<String> r = http.send(health, HttpResponse.BodyHandlers.ofString());
                            last.set(r.statusCode() + " " + r.body());
                            return r.statusCode() == 200 && r.body().contains("\"health\":\"true\"");
                        } catch (IOException e) {
                            last.set(e.toString());
                            return false;
                        }
                    });
        } catch (TerminalFailureException exited) {
            throw new IllegalStateException("etcd exited with " + process.exitValue() + "; see " + logFile);
        } catch (ConditionTimeoutException e) {
            throw new IllegalStateException(
                    "etcd did not become healthy within " + atMost + " (last: " + last + "); see " + logFile);
        }
    }
}
