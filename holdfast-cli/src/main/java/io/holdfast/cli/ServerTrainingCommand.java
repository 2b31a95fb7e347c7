package io.holdfast.cli;

import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.server.HoldfastServer;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.config.StartupException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code holdfast server-training} (hidden): what the launcher runs once per JDK and jar to make the cache a
 * {@code holdfast server} starts with (JDK 25 and newer: an ahead-of-time cache with the method profiles of this
 * run, {@code -XX:AOTCacheOutput}; older: the class list of a static class-data-sharing archive), and what the
 * image's build runs for the image's archive ({@code build-image.sh}, with {@code --duration 2s}). It starts three
 * durable nodes in this process on free loopback ports, with their data in a temporary directory, and puts a
 * load on them through the Java client: one client doing acquire+release pairs, then 16 clients on 16 locks, for
 * {@code --duration} in all, counted from the first pair the cluster serves (an election on a busy machine can take
 * seconds); then it stops them and removes the directory. It touches nothing outside the process
 * and that directory. Exit code: 0, or 70 when the nodes could not start (in five tries, each on other ports) or
 * served no pair within two minutes.
 */
@Command(name = "server-training", hidden = true, description = "Make the launcher's server cache (internal).")
final class ServerTrainingCommand implements Callable<Integer> {
    private static final int NODES = 3;
    private static final int CLIENTS = 16;
    private static final Duration FIRST_PAIR_WITHIN = Duration.ofSeconds(120);
    private static final int STARTS = 5;

    @Option(names = "--duration", defaultValue = "6s", converter = DurationConverter.class)
    Duration duration;

    @Override
    public Integer call() throws Exception {
        Path dir = Files.createTempDirectory("holdfast-server-training");
        List<HoldfastServer> nodes = new ArrayList<>();
        try {
            String uri = start(dir, nodes);
            // The load's time counts from the cluster's first served pair: on a busy machine the election can take
            // seconds, and a training without traffic would record only the start.
            if (load(uri, 1, FIRST_PAIR_WITHIN.toNanos(), 1) == 0) {
                throw new CliFailure(
                        ExitCodes.SOFTWARE, "server-training: the nodes served no pair within " + FIRST_PAIR_WITHIN);
            }
            long half = duration.toNanos() / 2;
            load(uri, 1, half, Long.MAX_VALUE);
            load(uri, CLIENTS, half, Long.MAX_VALUE);
            return ExitCodes.OK;
        } finally {
            nodes.forEach(HoldfastServer::close);
            deleteTree(dir);
        }
    }

    /**
     * Starts the nodes in {@code dir} on free loopback ports and returns the URI that names them. A port found free
     * can be taken before its node binds it (it lies in the kernel's range for automatic ports, which any outgoing
     * connection of the machine may be given: a CI run's integration tests failed so), so a start that fails is
     * tried again, up to {@value #STARTS} times, on other ports and in a directory of its own.
     */
    private static String start(Path dir, List<HoldfastServer> nodes) throws IOException {
        for (int attempt = 1; ; attempt++) {
            Map<String, ServerConfig.Peer> peers = new LinkedHashMap<>();
            for (int i = 1; i <= NODES; i++) {
                peers.put("n" + i, new ServerConfig.Peer("127.0.0.1", freePort(), freePort()));
            }
            StringBuilder uri = new StringBuilder("holdfast://");
            try {
                for (Map.Entry<String, ServerConfig.Peer> peer : peers.entrySet()) {
                    nodes.add(HoldfastServer.start(new ServerConfig(
                            peer.getKey(),
                            peers,
                            dir.resolve(attempt + "-" + peer.getKey()),
                            "127.0.0.1",
                            peer.getValue().clientPort(),
                            -1,
                            true,
                            Duration.ofMillis(300))));
                    uri.append(uri.length() > "holdfast://".length() ? "," : "")
                            .append(peer.getValue().clientAddress());
                }
                return uri.toString();
            } catch (StartupException e) {
                nodes.forEach(HoldfastServer::close);
                nodes.clear();
                if (attempt == STARTS) {
                    throw new CliFailure(ExitCodes.SOFTWARE, "server-training: " + e.getMessage(), e);
                }
            }
        }
    }

    /**
     * {@code clients} clients, each with its own session and lock, doing pairs for {@code nanos} or until each has
     * done {@code most}; a pair that fails (the cluster is still settling) is left out. Returns the pairs done.
     */
    private static long load(String uri, int clients, long nanos, long most) throws InterruptedException {
        long end = System.nanoTime() + nanos;
        AtomicLong pairs = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            String name = "server-training/" + clients + "/" + i;
            Thread t = new Thread(() -> pairs.addAndGet(pairs(uri, name, end, most)), name);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        return pairs.get();
    }

    private static long pairs(String uri, String name, long end, long most) {
        long done = 0;
        while (done < most && System.nanoTime() - end < 0) {
            try (LockClient client = LockClient.open(uri)) { // fails while the cluster has no leader yet
                var lock = client.lock(name);
                while (done < most && System.nanoTime() - end < 0) {
                    Lease lease = lock.acquire(Duration.ofSeconds(5));
                    lease.release();
                    done++;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return done;
            } catch (RuntimeException e) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return done;
                }
            }
        }
        return done;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // a temporary directory: the system's cleaning takes what is left
        }
    }
}
