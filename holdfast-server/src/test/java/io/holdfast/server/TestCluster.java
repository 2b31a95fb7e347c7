package io.holdfast.server;

import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.LockInfo;
import io.holdfast.UnavailableException;
import io.holdfast.client.internal.ClientRuntime;
import io.holdfast.core.Command;
import io.holdfast.core.LockService;
import io.holdfast.core.LockTable.RegisterValue;
import io.holdfast.core.Reply;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Several Holdfast nodes in this JVM on loopback ports, each with its own data directory, and
 * clients that reach the current leader in-process (the network client is tested separately).
 * Nodes can be stopped and restarted from their data.
 */
final class TestCluster implements AutoCloseable {
    private final Path root;
    private final Map<String, ServerConfig.Peer> peers = new LinkedHashMap<>();
    private final HoldfastServer[] nodes;
    private final List<LockClient> clients = new ArrayList<>();
    private final ScheduledExecutorService retry = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "test-cluster-retry");
        t.setDaemon(true);
        return t;
    });

    TestCluster(int size) throws Exception {
        root = Files.createTempDirectory("holdfast-cluster");
        nodes = new HoldfastServer[size];
        for (int i = 0; i < size; i++) {
            int raft = freePort();
            peers.put("n" + (i + 1), new ServerConfig.Peer("127.0.0.1", raft, freePort()));
        }
        for (int i = 0; i < size; i++) {
            start(i);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    ServerConfig config(int i) {
        String id = "n" + (i + 1);
        return new ServerConfig(
                id, peers, root.resolve(id), "127.0.0.1", peers.get(id).clientPort(), -1, true, Duration.ofMillis(400));
    }

    void start(int i) throws Exception {
        nodes[i] = HoldfastServer.start(config(i));
    }

    void stop(int i) {
        if (nodes[i] != null) {
            nodes[i].close();
            nodes[i] = null;
        }
    }

    HoldfastServer node(int i) {
        return nodes[i];
    }

    int size() {
        return nodes.length;
    }

    /** The index of the node that leads, or -1. */
    int leaderIndex() {
        for (int i = 0; i < nodes.length; i++) {
            if (nodes[i] != null && nodes[i].isLeader()) {
                return i;
            }
        }
        return -1;
    }

    int awaitLeader(Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            int leader = leaderIndex();
            if (leader >= 0) {
                return leader;
            }
            Thread.sleep(20); // polling a condition, not synchronising
        }
        throw new AssertionError("no leader within " + within);
    }

    /** The URI that names every member: {@code holdfast://host:port,…}. */
    String uri() {
        StringBuilder b = new StringBuilder("holdfast://");
        for (ServerConfig.Peer p : peers.values()) {
            b.append(b.length() > "holdfast://".length() ? "," : "").append(p.clientAddress());
        }
        return b.toString();
    }

    /** A client over the network, as users have it. */
    LockClient open(ClientOptions options) {
        LockClient client = LockClient.open(uri(), options);
        clients.add(client);
        return client;
    }

    /** A client that reaches the leader's lock service in-process, without gRPC. */
    LockClient openInProcess(ClientOptions options) {
        LockClient client = ClientRuntime.open(
                "raft-in-jvm",
                new Routing(),
                options,
                EnumSet.complementOf(EnumSet.of(Capability.SURVIVES_NODE_FAILURE)));
        clients.add(client);
        return client;
    }

    @Override
    public void close() throws IOException {
        for (LockClient c : clients) {
            try {
                c.close();
            } catch (RuntimeException e) {
                // best effort
            }
        }
        for (int i = 0; i < nodes.length; i++) {
            stop(i);
        }
        retry.shutdownNow();
        try (var files = Files.walk(root)) {
            files.sorted(java.util.Comparator.reverseOrder())
                    .forEach(p -> p.toFile().delete());
        }
    }

    /** A LockService that sends everything to whichever node leads now. */
    private final class Routing implements LockService {
        private volatile String session;
        private volatile Listener listener;

        private LockService leader() {
            int i = leaderIndex();
            if (i < 0) {
                throw new UnavailableException("no leader at the moment");
            }
            return nodes[i].lockService();
        }

        private <T> CompletableFuture<T> route(Function<LockService, CompletableFuture<T>> call) {
            try {
                return call.apply(leader());
            } catch (UnavailableException e) {
                return CompletableFuture.failedFuture(e);
            }
        }

        @Override
        public CompletableFuture<Reply> submit(Command command) {
            return route(s -> s.submit(command));
        }

        @Override
        public CompletableFuture<Reply> keepAlive(String sessionId) {
            return route(s -> s.keepAlive(sessionId));
        }

        @Override
        public void subscribe(String sessionId, Listener l) {
            session = sessionId;
            listener = l;
            attach(false);
        }

        private void attach(boolean gap) {
            Listener l = listener;
            if (l == null) {
                return;
            }
            try {
                leader().subscribe(session, new Listener() {
                    @Override
                    public void onEvent(io.holdfast.core.Event event) {
                        l.onEvent(event);
                    }

                    @Override
                    public void onEnd(Throwable cause) {
                        retry.schedule(() -> attach(true), 50, TimeUnit.MILLISECONDS);
                    }
                });
                if (gap) {
                    l.onGap();
                }
            } catch (RuntimeException e) {
                retry.schedule(() -> attach(true), 50, TimeUnit.MILLISECONDS);
            }
        }

        @Override
        public void unsubscribe(String sessionId) {
            listener = null;
            for (HoldfastServer n : nodes) {
                if (n != null) {
                    n.lockService().unsubscribe(sessionId);
                }
            }
        }

        @Override
        public CompletableFuture<Optional<LockInfo>> describe(String name) {
            return route(s -> s.describe(name));
        }

        @Override
        public CompletableFuture<List<LockInfo>> list(String prefix, int limit) {
            return route(s -> s.list(prefix, limit));
        }

        @Override
        public CompletableFuture<Boolean> isCurrentHolder(String name, long token) {
            return route(s -> s.isCurrentHolder(name, token));
        }

        @Override
        public CompletableFuture<Optional<RegisterValue>> readRegister(String key) {
            return route(s -> s.readRegister(key));
        }

        @Override
        public void close() {}
    }
}
