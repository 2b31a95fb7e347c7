package io.holdfast.server;

import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.client.HoldfastProvider;
import io.holdfast.client.internal.ClusterTransport;
import io.holdfast.core.AccessRules;
import io.holdfast.core.PlantedBug;
import io.holdfast.endpoint.Tokens;
import io.holdfast.server.config.RaftSettings;
import io.holdfast.server.config.RaftTransport;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.testkit.FreePorts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;

/**
 * Several Holdfast nodes in this JVM on loopback ports, each with its own data directory and its
 * gRPC endpoint, and clients that name every member, as users do. Nodes can be stopped and
 * restarted from their data.
 */
public final class TestCluster implements AutoCloseable {
    private final Path root;
    private final Map<String, ServerConfig.Peer> peers = new LinkedHashMap<>();
    private final HoldfastServer[] nodes;
    /** Clients and transports of the tests, closed with the cluster. */
    private final List<AutoCloseable> clients = new ArrayList<>();

    private final Set<PlantedBug> bugs;
    private final TestTls tls;
    private final ServerConfig.Auth auth;
    /** See {@link #withMembers}; 0 when every node is a member from the start. */
    private int initialMembers;
    /** Whether nodes serve their HTTP port (on any free port); tests mostly do without. */
    private final boolean http;
    /** The shortest election timeout of every node. */
    private final Duration electionTimeout;
    /** The quotas while access control is off of the nodes started from now on ({@code --limit}). */
    private io.holdfast.core.Quotas quotas = io.holdfast.core.Quotas.DEFAULTS;

    public TestCluster(int size) throws Exception {
        this(size, Set.of());
    }

    /** A cluster whose every node runs with these planted bugs (verification only). */
    public TestCluster(int size, Set<PlantedBug> bugs) throws Exception {
        this(size, bugs, null);
    }

    /**
     * A cluster over TLS when {@code tls} is given: every node with its certificate from it, the
     * client port asking for client certificates as it says, and {@link #uri()} with the client's
     * TLS files.
     */
    public TestCluster(int size, Set<PlantedBug> bugs, TestTls tls) throws Exception {
        this(size, bugs, tls, null);
    }

    /** A cluster over TLS whose nodes also authenticate clients as {@code auth} says. */
    public TestCluster(int size, Set<PlantedBug> bugs, TestTls tls, ServerConfig.Auth auth) throws Exception {
        this(size, bugs, tls, auth, false);
    }

    /** As above, and with {@code http}, every node serves its HTTP port ({@link HoldfastServer#httpPort()}). */
    public TestCluster(int size, Set<PlantedBug> bugs, TestTls tls, ServerConfig.Auth auth, boolean http)
            throws Exception {
        this(size, bugs, tls, auth, http, Duration.ofMillis(400));
    }

    /** Plaintext nodes whose shortest election timeout is {@code electionTimeout}. */
    public TestCluster(int size, Duration electionTimeout) throws Exception {
        this(size, Set.of(), null, null, false, electionTimeout, size);
    }

    /**
     * Three nodes over {@code tls} (client certificates as it asks) that serve their HTTP port and
     * authenticate clients with {@code tokens} under the access rules {@code rules}; returned once a
     * leader is known and every replica has the rules in force.
     */
    static TestCluster secured(TestTls tls, String rules, Tokens tokens) throws Exception {
        AccessRules parsed = AccessRules.parse(rules);
        TestCluster cluster = new TestCluster(3, Set.of(), tls, new ServerConfig.Auth(parsed, tokens), true);
        try {
            cluster.awaitLeader(Duration.ofSeconds(60));
            org.awaitility.Awaitility.await("the rules in force on every replica")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> cluster.allReplicasHave(parsed));
            return cluster;
        } catch (RuntimeException | Error e) {
            cluster.close();
            throw e;
        }
    }

    /** Whether every node has {@code rules} in force (a stopped node has none). */
    boolean allReplicasHave(AccessRules rules) {
        for (HoldfastServer node : nodes) {
            if (node == null || !rules.equals(node.parts().machine().read(io.holdfast.core.LockTable::accessRules))) {
                return false;
            }
        }
        return true;
    }

    /** Plaintext nodes that serve their HTTP port, with this shortest election timeout. */
    public static TestCluster withHttp(int size, Duration electionTimeout) throws Exception {
        return new TestCluster(size, Set.of(), null, null, true, electionTimeout);
    }

    /** Plaintext nodes that serve their HTTP port, of which only the first {@code started} run yet. */
    public static TestCluster withHttp(int size, Duration electionTimeout, int started) throws Exception {
        return new TestCluster(size, Set.of(), null, null, true, electionTimeout, started);
    }

    /** Plaintext nodes of which only the first {@code started} run yet; {@link #start} the others. */
    public TestCluster(int size, int started) throws Exception {
        this(size, Set.of(), null, null, false, Duration.ofMillis(400), started);
    }

    /**
     * Room for {@code size} nodes of which the first {@code members} form the cluster and run; the
     * others are started later ({@link #start}) with those members and themselves as their peer
     * list, to be added with a change of the members (with {@link #uri()} naming every node).
     */
    static TestCluster withMembers(int size, int members) throws Exception {
        TestCluster c = new TestCluster(size, 0);
        c.initialMembers = members;
        for (int i = 0; i < members; i++) {
            c.start(i);
        }
        return c;
    }

    /** As {@link #withMembers}, every node serving its HTTP port. */
    static TestCluster withMembersAndHttp(int size, int members) throws Exception {
        TestCluster c = new TestCluster(size, Set.of(), null, null, true, Duration.ofMillis(400), 0);
        c.initialMembers = members;
        for (int i = 0; i < members; i++) {
            c.start(i);
        }
        return c;
    }

    /** The id, Raft address and client address of node {@code i}. */
    io.holdfast.model.MembershipChange.Add addition(int i, boolean learner) {
        String id = "n" + (i + 1);
        ServerConfig.Peer p = peers.get(id);
        return new io.holdfast.model.MembershipChange.Add(id, p.raftAddress(), p.clientAddress(), learner);
    }

    private TestCluster(
            int size, Set<PlantedBug> bugs, TestTls tls, ServerConfig.Auth auth, boolean http, Duration electionTimeout)
            throws Exception {
        this(size, bugs, tls, auth, http, electionTimeout, size);
    }

    private TestCluster(
            int size,
            Set<PlantedBug> bugs,
            TestTls tls,
            ServerConfig.Auth auth,
            boolean http,
            Duration electionTimeout,
            int started)
            throws Exception {
        this.http = http;
        this.electionTimeout = electionTimeout;
        this.bugs = Set.copyOf(bugs);
        this.tls = tls;
        this.auth = auth;
        root = Files.createTempDirectory("holdfast-cluster");
        nodes = new HoldfastServer[size];
        for (int i = 0; i < size; i++) {
            int raft = freePort();
            peers.put("n" + (i + 1), new ServerConfig.Peer("127.0.0.1", raft, freePort()));
        }
        for (int i = 0; i < started; i++) {
            start(i);
        }
    }

    /**
     * A port for a node to bind later, and again after a restart: below the kernel's range for
     * automatic ports, so no other socket of the machine is given it meanwhile ({@link FreePorts}).
     */
    static int freePort() {
        return FreePorts.next();
    }

    /** The group as a Ratis client of the members' Raft ports names it: each member at its Raft address. */
    public RaftGroup raftGroup() {
        List<RaftPeer> members = new ArrayList<>();
        config(0)
                .peers()
                .forEach((id, p) -> members.add(RaftPeer.newBuilder()
                        .setId(id)
                        .setAddress(p.raftAddress())
                        .build()));
        return RaftGroup.valueOf(RaftSettings.GROUP_ID, members);
    }

    public ServerConfig config(int i) {
        String id = "n" + (i + 1);
        Map<String, ServerConfig.Peer> known = peers;
        if (initialMembers > 0) {
            known = new LinkedHashMap<>();
            int n = 0;
            for (Map.Entry<String, ServerConfig.Peer> e : peers.entrySet()) {
                if (n++ < initialMembers || e.getKey().equals(id)) {
                    known.put(e.getKey(), e.getValue());
                }
            }
        }
        ServerConfig plain = new ServerConfig(
                id,
                known,
                root.resolve(id),
                "127.0.0.1",
                peers.get(id).clientPort(),
                http ? 0 : -1,
                true,
                electionTimeout);
        ServerConfig withTls = tls == null ? plain : plain.withTls(tls.node(id), tls.clientAuth());
        return (auth == null ? withTls : withTls.withAuth(auth)).withQuotas(quotas);
    }

    /** Starts the nodes started from now on with these quotas while access control is off, as {@code --limit} does. */
    void quotas(io.holdfast.core.Quotas quotas) {
        this.quotas = quotas;
    }

    void start(int i) throws Exception {
        nodes[i] = bugs.isEmpty() ? HoldfastServer.start(config(i)) : HoldfastServer.start(config(i), bugs);
    }

    /** Starts node {@code i} talking Raft over {@code transport}, whatever the others use. */
    void start(int i, RaftTransport transport) throws Exception {
        nodes[i] = HoldfastServer.start(config(i).withRaftTransport(transport));
    }

    /** Starts node {@code i} as a build that speaks {@code vocabulary} (an older or newer build). */
    void start(int i, io.holdfast.core.Vocabulary vocabulary) throws Exception {
        nodes[i] = HoldfastServer.start(config(i), bugs, vocabulary, true);
    }

    /** Starts node {@code i} so that it never reports its protocol version: a member that has not reported yet. */
    void startUnreported(int i) throws Exception {
        nodes[i] = HoldfastServer.start(config(i), bugs, io.holdfast.core.Vocabulary.CURRENT, false);
    }

    /** The members file Ratis wrote in a stopped node's data directory when it applied a configuration. */
    Path raftMetaConf(int i) throws IOException {
        if (nodes[i] != null) {
            throw new IllegalStateException("n" + (i + 1) + " is running");
        }
        try (var walk = Files.walk(root.resolve("n" + (i + 1)))) {
            return walk.filter(p -> p.getFileName().toString().equals("raft-meta.conf"))
                    .findFirst()
                    .orElse(root.resolve("n" + (i + 1)).resolve("no-raft-meta.conf"));
        }
    }

    /** Deletes node {@code i}'s data directory (the node must be stopped): a lost disk. */
    void wipe(int i) throws IOException {
        if (nodes[i] != null) {
            throw new IllegalStateException("n" + (i + 1) + " is running");
        }
        Path dir = root.resolve("n" + (i + 1));
        if (Files.exists(dir)) {
            try (var walk = Files.walk(dir)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    public void stop(int i) {
        if (nodes[i] != null) {
            nodes[i].close();
            nodes[i] = null;
        }
    }

    /**
     * Stops every running node at the same time, keeping their data (a restart finds it again):
     * a node's close takes up to a few seconds (Ratis shutting down), and one after the other
     * they added up.
     */
    void stopAll() {
        List<Thread> stopping = new ArrayList<>();
        for (int i = 0; i < nodes.length; i++) {
            if (nodes[i] != null) {
                int n = i;
                Thread t = new Thread(
                        () -> {
                            // every member stops: nobody would stay to take the leadership
                            nodes[n].closeWithoutHandOver();
                            nodes[n] = null;
                        },
                        "stop-n" + (i + 1));
                t.start();
                stopping.add(t);
            }
        }
        for (Thread t : stopping) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while the nodes were stopping", e);
            }
        }
    }

    public HoldfastServer node(int i) {
        return nodes[i];
    }

    public int size() {
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

    /**
     * Waits for a leader, then (for up to 5 s more, best effort) for every running voter to have
     * applied an entry: Ratis counts no vote from a voter whose log is empty once anything is
     * committed (RATIS-1995), so a member that started after the election and had received nothing
     * when a test killed the leader would leave the others without a leader for good (seen on a
     * loaded machine: a follower without a leader for 7 s, then 30 s in a test that forced it).
     */
    public int awaitLeader(Duration within) {
        org.awaitility.Awaitility.await("a leader")
                .atMost(within)
                .pollInterval(Duration.ofMillis(20))
                .until(() -> leaderIndex() >= 0);
        int leader = leaderIndex();
        awaitVotersHoldTheLog(leader, System.nanoTime() + Duration.ofSeconds(5).toNanos());
        int now = leaderIndex();
        return now >= 0 ? now : leader;
    }

    private void awaitVotersHoldTheLog(int leader, long deadline) {
        java.util.Set<String> voters = new java.util.HashSet<>();
        try {
            HoldfastServer node = nodes[leader];
            if (node == null) {
                return;
            }
            node.parts()
                    .division()
                    .getRaftConf()
                    .getCurrentPeers()
                    .forEach(p -> voters.add(p.getId().toString()));
        } catch (IOException | RuntimeException e) {
            return; // the leader went away: the caller's next step finds out
        }
        while (System.nanoTime() - deadline < 0) {
            boolean all = true;
            for (int i = 0; i < nodes.length; i++) {
                HoldfastServer node = nodes[i];
                if (node != null
                        && voters.contains("n" + (i + 1))
                        && node.status().appliedIndex() < 0) {
                    all = false;
                }
            }
            if (all) {
                return;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** The URI that names every member: {@code holdfast://host:port,…} (with TLS: {@code ?ca=…}). */
    String uri() {
        StringBuilder b = new StringBuilder("holdfast://");
        for (ServerConfig.Peer p : peers.values()) {
            b.append(b.length() > "holdfast://".length() ? "," : "").append(p.clientAddress());
        }
        return tls == null ? b.toString() : b + tls.clientQuery();
    }

    /** The members' URI with these parameters ({@code ?…}) instead of the cluster's own. */
    String uri(String query) {
        String plain = uri();
        int q = plain.indexOf('?');
        return (q < 0 ? plain : plain.substring(0, q)) + query;
    }

    /** A client over the network, as users have it. */
    public LockClient open(ClientOptions options) {
        LockClient client = LockClient.open(uri(), options);
        clients.add(client);
        return client;
    }

    /** A client with the default options and these URI parameters ({@link #uri(String)}), closed with the cluster. */
    public LockClient open(String query) {
        LockClient client = LockClient.open(uri(query), ClientOptions.defaults());
        clients.add(client);
        return client;
    }

    /**
     * A raw transport (no client library in between) to the members with these URI parameters'
     * TLS files and no token, closed with the cluster.
     */
    ClusterTransport transport(String query) {
        String uri = uri(query);
        ClusterTransport t = new ClusterTransport(
                HoldfastProvider.members(uri), Duration.ofSeconds(5), HoldfastProvider.tls(uri), null);
        clients.add(t);
        return t;
    }

    @Override
    public void close() throws IOException {
        for (AutoCloseable c : clients) {
            try {
                c.close();
            } catch (Exception e) {
                // best effort
            }
        }
        stopAll();
        try (var files = Files.walk(root)) {
            files.sorted(java.util.Comparator.reverseOrder())
                    .forEach(p -> p.toFile().delete());
        }
    }

    /**
     * Stops node {@code i} as a crash would: its Raft division at once (it neither replicates nor
     * answers from then on), then the rest without a hand-over; its data is kept.
     */
    public void crash(int i) throws IOException {
        if (nodes[i] != null) {
            nodes[i].parts().division().close();
            kill(i);
        }
    }

    /** Stops node {@code i} without handing its leadership over, as a kill does; its data is kept. */
    void kill(int i) {
        if (nodes[i] != null) {
            nodes[i].closeWithoutHandOver();
            nodes[i] = null;
        }
    }
}
