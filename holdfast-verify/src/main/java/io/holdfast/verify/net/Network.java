// Ceiling 420 lines, one idea: the harness's one model of the network (the address scheme, and partitions,
// delays, isolation over every directed Link) that the faults act on.
package io.holdfast.verify.net;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.StringJoiner;
import java.util.function.Consumer;

/**
 * The harness's whole network for N server nodes ({@code n1}..{@code nN}) and a set of dialers (the
 * nodes themselves and the client processes): one {@link Link} per directed pair dialer → node, so
 * that every link can fail on its own (a leader's outgoing appends can be cut while its incoming
 * votes still flow, or the other way round).
 *
 * <p><b>Address scheme.</b> Node {@code j} (1-based) really listens on {@code 127.0.0.1:raftPort_j}
 * and {@code 127.0.0.1:clientPort_j}, and advertises the host name {@code nj.holdfast} (peers {@code
 * n1=n1.holdfast:RAFT1:CLIENT1,...}, see {@link #peers()}). Every dialer has its own loopback
 * address per target node:
 *
 * <ul>
 *   <li>node {@code i} dials node {@code j} through {@code 127.1.i.j};
 *   <li>client {@code k} (the k-th name given to {@link #start}, 1-based) dials node {@code j}
 *       through {@code 127.2.k.j}.
 * </ul>
 *
 * On each such address two {@link LinkProxy proxies} listen, with the <b>same port numbers</b> as
 * the target's real ports: one on {@code raftPort_j} and one on {@code clientPort_j}. Linux routes
 * all of {@code 127/8} to the loopback device, so no set-up is needed. Each dialer gets a hosts
 * file ({@link #hostsFile}) mapping every {@code nj.holdfast} to its own proxy address for {@code
 * j}; its JVM is started with {@link #jvmArgs} ({@code -Djdk.net.hosts.file=FILE}). There are links
 * from a node to itself too ({@code n1->n1}); faults never touch them.
 *
 * <p><b>Name resolution in those JVMs.</b> With {@code jdk.net.hosts.file} set, the JDK resolves
 * names from that file <em>only</em>: a name missing from it fails with {@link
 * UnknownHostException} ("Unable to resolve host X in hosts file F"); there is no fallback to the
 * system resolver (checked on OpenJDK 17, see NetworkTest). Literal IP addresses still work. So
 * the file also maps {@code localhost} and this machine's own host name to {@code 127.0.0.1}:
 * without the latter {@link InetAddress#getLocalHost()} fails in the child JVM.
 *
 * <p><b>Faults</b> are named by link ({@code "n1->n2"}, {@code "c3->n1"}: dialer → node) and apply
 * to both proxies of a link (Raft and client port); they add up until {@link #heal()}:
 *
 * <ul>
 *   <li>{@link #isolate}: blackholes every link from and to a node;
 *   <li>{@link #partition}: blackholes every link between two sides, both directions;
 *   <li>{@link #oneWay}: drops the data {@code from} sends to {@code to} (forward of {@code
 *       from->to}, backward of {@code to->from}); the other direction still flows;
 *   <li>{@link #delay}: delays both directions of the links between two parties;
 *   <li>{@link #cut}: resets every connection of a party (see the method);
 *   <li>{@link #heal()}: every link back to pass; connections that lost bytes are reset then (see
 *       {@link LinkProxy}), so clients and peers see a reset and reconnect after a heal.
 * </ul>
 *
 * <p><b>Ports.</b> Choose the nodes' ports outside the kernel's ephemeral range ({@code
 * /proc/sys/net/ipv4/ip_local_port_range}, 32768-60999 here): the proxies' outgoing connections
 * take ephemeral ports on {@code 127.0.0.1}, and one could hold a stopped node's port when it
 * restarts.
 */
public final class Network implements Closeable {
    /** The advertised host names' domain: node {@code nj} is {@code nj.holdfast}. */
    public static final String DOMAIN = ".holdfast";

    /** One server node's real ports on 127.0.0.1. */
    public record NodePorts(int raftPort, int clientPort) {
        public NodePorts {
            if (raftPort <= 0 || raftPort > 65535 || clientPort <= 0 || clientPort > 65535) {
                throw new IllegalArgumentException("bad ports " + raftPort + "/" + clientPort);
            }
        }
    }

    private final List<String> nodes;
    private final List<NodePorts> ports;
    private final List<String> clients;
    private final Map<String, Link> links = new LinkedHashMap<>();
    private final Map<String, Path> hostsFiles = new LinkedHashMap<>();

    private Network(List<NodePorts> ports, List<String> clients) {
        this.ports = List.copyOf(ports);
        List<String> n = new ArrayList<>();
        for (int j = 1; j <= ports.size(); j++) {
            n.add("n" + j);
        }
        this.nodes = Collections.unmodifiableList(n);
        this.clients = List.copyOf(clients);
    }

    /**
     * Binds every proxy and writes every dialer's hosts file into {@code dir} ({@code hosts-<dialer>}).
     *
     * @param nodes the nodes' real ports; node {@code j} is {@code nodes.get(j - 1)}
     * @param clients the client dialers' names (e.g. {@code c1}, {@code x1}, {@code probe}), in the
     *     order that gives them their {@code k}
     * @throws IOException if a proxy cannot bind or a file cannot be written (nothing stays bound)
     */
    public static Network start(List<NodePorts> nodes, List<String> clients, Path dir) throws IOException {
        if (nodes.isEmpty() || nodes.size() > 255 || clients.size() > 255) {
            throw new IllegalArgumentException("1..255 nodes and at most 255 clients");
        }
        Network net = new Network(nodes, clients);
        for (String c : clients) {
            if (c.isBlank()
                    || c.contains("->")
                    || net.nodes.contains(c)
                    || clients.indexOf(c) != clients.lastIndexOf(c)) {
                throw new IllegalArgumentException("bad or repeated client name '" + c + "'");
            }
        }
        try {
            Files.createDirectories(dir);
            String self = localHostName();
            for (String d : net.dialers()) {
                StringBuilder hosts = new StringBuilder("127.0.0.1 localhost\n");
                if (self != null && !self.equals("localhost")) {
                    hosts.append("127.0.0.1 ").append(self).append('\n');
                }
                for (int j = 1; j <= nodes.size(); j++) {
                    String node = "n" + j;
                    InetAddress a = net.address(d, node);
                    NodePorts p = nodes.get(j - 1);
                    String name = d + "->" + node;
                    LinkProxy raft = new LinkProxy(name + "/raft", a, p.raftPort(), "127.0.0.1", p.raftPort());
                    LinkProxy client;
                    try {
                        client = new LinkProxy(name + "/client", a, p.clientPort(), "127.0.0.1", p.clientPort());
                    } catch (IOException e) {
                        raft.close();
                        throw e;
                    }
                    net.links.put(name, new Link(d, node, raft, client));
                    hosts.append(a.getHostAddress())
                            .append(' ')
                            .append(hostName(node))
                            .append('\n');
                }
                Path f = dir.resolve("hosts-" + d);
                Files.writeString(f, hosts.toString(), StandardCharsets.US_ASCII);
                net.hostsFiles.put(d, f.toAbsolutePath());
            }
        } catch (IOException | RuntimeException e) {
            net.close();
            throw e;
        }
        return net;
    }

    private static String localHostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** {@code nj.holdfast} for node {@code nj}. */
    public static String hostName(String node) {
        return node + DOMAIN;
    }

    /** {@code n1}..{@code nN}. */
    public List<String> nodes() {
        return nodes;
    }

    /** The client dialers, in the order given. */
    public List<String> clients() {
        return clients;
    }

    /** Every dialer: the nodes, then the clients. */
    public List<String> dialers() {
        List<String> all = new ArrayList<>(nodes);
        all.addAll(clients);
        return all;
    }

    /** Node {@code node}'s real ports. */
    public NodePorts ports(String node) {
        return ports.get(nodeIndex(node) - 1);
    }

    /** The peers list for every node: {@code n1=n1.holdfast:RAFT1:CLIENT1,n2=...}. */
    public String peers() {
        StringJoiner j = new StringJoiner(",");
        for (int i = 0; i < nodes.size(); i++) {
            String n = nodes.get(i);
            j.add(n + "=" + hostName(n) + ":" + ports.get(i).raftPort() + ":"
                    + ports.get(i).clientPort());
        }
        return j.toString();
    }

    /** The clients' URI: {@code holdfast://n1.holdfast:CLIENT1,n2.holdfast:CLIENT2,...}. */
    public String clientUri() {
        StringJoiner j = new StringJoiner(",", "holdfast://", "");
        for (int i = 0; i < nodes.size(); i++) {
            j.add(hostName(nodes.get(i)) + ":" + ports.get(i).clientPort());
        }
        return j.toString();
    }

    /** {@code 127.1.i.j} for node {@code ni} dialing node {@code nj}, {@code 127.2.k.j} for client k. */
    public InetAddress address(String dialer, String node) {
        int j = nodeIndex(node);
        byte[] a;
        if (nodes.contains(dialer)) {
            a = new byte[] {127, 1, (byte) nodeIndex(dialer), (byte) j};
        } else {
            int k = clients.indexOf(dialer) + 1;
            if (k == 0) {
                throw new IllegalArgumentException("no dialer '" + dialer + "'");
            }
            a = new byte[] {127, 2, (byte) k, (byte) j};
        }
        try {
            return InetAddress.getByAddress(a);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The dialer's hosts file (absolute). */
    public Path hostsFile(String dialer) {
        Path f = hostsFiles.get(dialer);
        if (f == null) {
            throw new IllegalArgumentException("no dialer '" + dialer + "'");
        }
        return f;
    }

    /** The JVM options a dialer's process needs: {@code -Djdk.net.hosts.file=FILE}. */
    public List<String> jvmArgs(String dialer) {
        return List.of("-Djdk.net.hosts.file=" + hostsFile(dialer));
    }

    /** The link {@code from->to} ({@code to} a node). */
    public Link link(String from, String to) {
        Link l = links.get(from + "->" + to);
        if (l == null) {
            throw new IllegalArgumentException("no link " + from + "->" + to);
        }
        return l;
    }

    /** The link by name, {@code "c3->n1"}. */
    public Link link(String name) {
        Link l = links.get(name);
        if (l == null) {
            throw new IllegalArgumentException("no link " + name);
        }
        return l;
    }

    /** Every link, in a fixed order. */
    public Collection<Link> links() {
        return Collections.unmodifiableCollection(links.values());
    }

    /** The names of the links that currently drop bytes (either way, either port). */
    public List<String> droppingLinks() {
        List<String> out = new ArrayList<>();
        for (Link l : links.values()) {
            if (l.isDropping()) {
                out.add(l.name());
            }
        }
        return out;
    }

    /** Blackholes every link from and to {@code node} (nodes and clients; not its link to itself). */
    public void isolate(String node) {
        nodeIndex(node);
        forLinksTouching(node, Link::blackhole);
    }

    /**
     * Blackholes every link between a party of {@code a} and a party of {@code b}, both ways. Parties
     * are nodes or clients; there are no links between two clients.
     */
    public void partition(Set<String> a, Set<String> b) {
        for (String x : a) {
            checkParty(x);
            for (String y : b) {
                checkParty(y);
                if (x.equals(y)) {
                    throw new IllegalArgumentException(x + " is on both sides");
                }
                Link xy = links.get(x + "->" + y);
                Link yx = links.get(y + "->" + x);
                if (xy != null) {
                    xy.blackhole();
                }
                if (yx != null) {
                    yx.blackhole();
                }
            }
        }
    }

    /**
     * Drops the data {@code from} sends to {@code to}: the requests on {@code from->to} and the
     * replies on {@code to->from} (whichever of the two links exist: a client has no incoming link).
     * Data from {@code to} to {@code from} still flows.
     */
    public void oneWay(String from, String to) {
        checkParty(from);
        checkParty(to);
        Link fwd = links.get(from + "->" + to);
        Link back = links.get(to + "->" + from);
        if (fwd == null && back == null) {
            throw new IllegalArgumentException("no link between " + from + " and " + to);
        }
        if (fwd != null) {
            fwd.dropForward();
        }
        if (back != null) {
            back.dropBackward();
        }
    }

    /** Delays both directions of the links between {@code a} and {@code b} (zero: no delay). */
    public void delay(String a, String b, Duration d) {
        checkParty(a);
        checkParty(b);
        Link ab = links.get(a + "->" + b);
        Link ba = links.get(b + "->" + a);
        if (ab == null && ba == null) {
            throw new IllegalArgumentException("no link between " + a + " and " + b);
        }
        if (ab != null) {
            ab.delay(d);
        }
        if (ba != null) {
            ba.delay(d);
        }
    }

    /** Delays every link from and to {@code party} (zero: no delay). */
    public void delay(String party, Duration d) {
        checkParty(party);
        forLinksTouching(party, l -> l.delay(d));
    }

    /**
     * Resets every current connection of {@code party}: the ones it dialed and, for a node, the ones
     * dialed to it (not its links to itself). New connections work at once (unless the links drop).
     */
    public void cut(String party) {
        checkParty(party);
        forLinksTouching(party, Link::cut);
    }

    /** Every link back to pass (no drops, no delay). */
    public void heal() {
        for (Link l : links.values()) {
            l.pass();
        }
    }

    /** Closes every proxy. */
    @Override
    public void close() {
        for (Link l : links.values()) {
            l.raft().close();
            l.client().close();
        }
    }

    private void forLinksTouching(String party, Consumer<Link> action) {
        for (Link l : links.values()) {
            if (l.from().equals(l.to())) {
                continue;
            }
            if (l.from().equals(party) || l.to().equals(party)) {
                action.accept(l);
            }
        }
    }

    private void checkParty(String p) {
        if (!nodes.contains(p) && !clients.contains(p)) {
            throw new IllegalArgumentException("no node or client '" + p + "'");
        }
    }

    private int nodeIndex(String node) {
        int i = nodes.indexOf(Objects.requireNonNull(node, "node"));
        if (i < 0) {
            throw new IllegalArgumentException("no node '" + node + "'");
        }
        return i + 1;
    }
}
