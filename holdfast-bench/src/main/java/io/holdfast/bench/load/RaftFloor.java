package io.holdfast.bench.load;

import io.holdfast.server.HoldfastServer;
import io.holdfast.server.ServerConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientAsynchronousProtocol;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * What Ratis alone costs per durable write on this machine, with the settings every Holdfast node runs
 * with ({@link HoldfastServer#raftProperties}): the floor under any lock service built on it. No Holdfast code
 * is on the path: the state machine answers each entry with its own bytes, and requests enter the leader's
 * division in this process the way Holdfast's server submits them (no network between client and leader). One
 * node, or three in this process talking gRPC on loopback.
 *
 * <p>Closed loops: each of {@code --threads} threads submits one write and waits for its reply before the next.
 * Reports writes per second, p50/p99 per write, and the CPU per write of this process by thread group (Ratis's log
 * worker, leader event processor, state-machine updater, log appenders, gRPC, the JIT, the submitting threads).
 * Subtracting this from {@link LatencyBudget}'s raw write against a node gives what Holdfast adds (transport,
 * codec, table); two writes make one acquire+release pair, so {@code 1 / (2 × p50)} bounds what one client can do.
 *
 * <pre>
 * java -cp holdfast-bench/target/benchmarks.jar io.holdfast.bench.load.RaftFloor \
 *     [--nodes 1|3] [--threads 1] [--no-fsync] [--payload 64] [--warmup 20s] [--duration 10s] [--dir DIR] \
 *     [--set RATIS_KEY=VALUE]...
 * java -cp ... RaftFloor --disk | --disk-as-ratis [--dir DIR]    # the disk alone: write + fdatasync
 * </pre>
 */
public final class RaftFloor {
    static final RaftGroupId GROUP =
            RaftGroupId.valueOf(java.util.UUID.fromString("6b1e5c2a-0000-4000-8000-00000000f100"));

    /** Answers every entry with its own data; the least a state machine can do. */
    static final class EchoMachine extends BaseStateMachine {
        @Override
        public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
            LogEntryProto entry = trx.getLogEntry();
            updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
            return CompletableFuture.completedFuture(
                    Message.valueOf(entry.getStateMachineLogEntry().getLogData()));
        }
    }

    public static void main(String[] args) throws Exception {
        int nodes = 1;
        int threads = 1;
        boolean fsync = true;
        int payload = 64;
        Duration warmup = Duration.ofSeconds(20);
        Duration duration = Duration.ofSeconds(10);
        Path dir = null;
        Map<String, String> overrides = new LinkedHashMap<>();
        String disk = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--nodes" -> nodes = Integer.parseInt(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--no-fsync" -> fsync = false;
                case "--payload" -> payload = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = LoadSettings.parseDuration(args[++i]);
                case "--duration" -> duration = LoadSettings.parseDuration(args[++i]);
                case "--dir" -> dir = Path.of(args[++i]);
                case "--disk" -> disk = "plain";
                case "--disk-as-ratis" -> disk = "as-ratis";
                case "--set" -> {
                    String[] kv = args[++i].split("=", 2);
                    overrides.put(kv[0], kv[1]);
                }
                default -> {
                    System.err.println("unknown option " + args[i]
                            + "; usage: RaftFloor [--nodes 1|3] [--threads N] [--no-fsync] [--payload BYTES]"
                            + " [--warmup 20s] [--duration 10s] [--dir DIR] [--set RATIS_KEY=VALUE]..."
                            + " | --disk | --disk-as-ratis");
                    System.exit(64);
                }
            }
        }
        if (nodes != 1 && nodes != 3) {
            System.err.println("--nodes must be 1 or 3");
            System.exit(64);
        }
        Path base = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("raft-floor");
        if (disk != null) {
            disk(base.resolve("disk-floor.bin"), disk.equals("as-ratis"), warmup, duration);
            return;
        }
        List<RaftServer> servers = start(nodes, fsync, base, overrides);
        try {
            RaftServer leader = awaitLeader(servers);
            RaftClientAsynchronousProtocol submit = (RaftClientAsynchronousProtocol) leader.getDivision(GROUP);
            byte[] body = new byte[payload];
            run(submit, leader.getId(), threads, body, warmup);
            Result r = measure(submit, leader.getId(), threads, body, duration);
            PrintWriter out = new PrintWriter(System.out, true);
            out.printf(
                    Locale.ROOT,
                    "Ratis floor: %d node(s), fsync %s, %d thread(s), %d-byte entries, %s measured after %s of warm-up%s%n",
                    nodes,
                    fsync ? "on" : "off",
                    threads,
                    payload,
                    duration,
                    warmup,
                    overrides.isEmpty() ? "" : ", with " + overrides);
            out.printf(
                    Locale.ROOT,
                    "writes/s %.0f   p50 %.1f µs   p99 %.1f µs   process CPU per write %.1f µs%n",
                    r.writes / (r.nanos / 1e9),
                    r.latency.getValueAtPercentile(50) / 1000.0,
                    r.latency.getValueAtPercentile(99) / 1000.0,
                    r.cpuNanos / 1000.0 / r.writes);
            r.cpuByGroup.entrySet().stream()
                    .sorted(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder()))
                    .filter(e -> e.getValue() > 0)
                    .forEach(e -> out.printf(
                            Locale.ROOT,
                            "  %-28s %8.1f µs CPU per write%n",
                            e.getKey(),
                            e.getValue() / 1000.0 / r.writes));
        } finally {
            for (RaftServer s : servers) {
                s.close();
            }
        }
    }

    /**
     * The disk alone: a 101-byte write and {@code fdatasync} ({@code force(false)}), in a loop, into a file laid out
     * as Ratis lays out an open log segment (a header, then 4 MB appended at the end of the file); {@code asRatis}
     * also asks the channel for its position and size before each write, as Ratis's preallocation check does.
     */
    static void disk(Path file, boolean asRatis, Duration warmup, Duration duration) throws IOException {
        Files.deleteIfExists(file);
        try (java.nio.channels.FileChannel fc = java.nio.channels.FileChannel.open(
                file, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
            fc.write(java.nio.ByteBuffer.wrap(new byte[8]));
            java.nio.ByteBuffer fill = java.nio.ByteBuffer.allocateDirect(4 << 20);
            fc.write(fill.duplicate(), fc.size());
            fc.position(8);
            fc.force(false);
            java.nio.ByteBuffer entry = java.nio.ByteBuffer.allocateDirect(101);
            long position = 8;
            long size = fc.size();
            for (Duration phase : List.of(warmup, duration)) {
                Histogram latency = new Histogram(3);
                long start = System.nanoTime();
                long end = start + phase.toNanos();
                while (System.nanoTime() < end) {
                    entry.clear();
                    long t0 = System.nanoTime();
                    if (asRatis) {
                        position = fc.position();
                        size = fc.size();
                    }
                    if (position + entry.capacity() > size) {
                        fc.write(fill.duplicate(), size); // the next 4 MB, as Ratis preallocates
                        size += fill.capacity();
                    }
                    fc.write(entry);
                    fc.force(false);
                    position += entry.capacity();
                    latency.recordValue(System.nanoTime() - t0);
                }
                if (phase == duration) {
                    System.out.printf(
                            Locale.ROOT,
                            "disk floor%s: %d write+fdatasync in %.1f s, p50 %.1f µs, p99 %.1f µs%n",
                            asRatis ? " (position and size asked before each write, as Ratis does)" : "",
                            latency.getTotalCount(),
                            (System.nanoTime() - start) / 1e9,
                            latency.getValueAtPercentile(50) / 1000.0,
                            latency.getValueAtPercentile(99) / 1000.0);
                }
            }
        }
    }

    record Result(long writes, long nanos, Histogram latency, long cpuNanos, Map<String, Long> cpuByGroup) {}

    static List<RaftServer> start(int nodes, boolean fsync, Path base, Map<String, String> overrides)
            throws IOException {
        Map<String, ServerConfig.Peer> peers = new LinkedHashMap<>();
        for (int i = 1; i <= nodes; i++) {
            peers.put("n" + i, new ServerConfig.Peer("127.0.0.1", freePort(), freePort()));
        }
        List<RaftPeer> raftPeers = new ArrayList<>();
        peers.forEach((id, p) -> raftPeers.add(
                RaftPeer.newBuilder().setId(id).setAddress(p.raftAddress()).build()));
        RaftGroup group = RaftGroup.valueOf(GROUP, raftPeers);
        List<RaftServer> servers = new ArrayList<>();
        for (String id : peers.keySet()) {
            Path data = base.resolve(id);
            ServerConfig config = new ServerConfig(
                    id,
                    peers,
                    data,
                    "127.0.0.1",
                    peers.get(id).clientPort(),
                    -1,
                    fsync,
                    Duration.ofMillis(nodes == 1 ? 300 : 1000));
            Path raftDir = Files.createDirectories(data.resolve("raft"));
            RaftProperties properties = HoldfastServer.raftProperties(config, raftDir);
            overrides.forEach(properties::set);
            // With raft.rpc.type=NETTY (ratis-netty on the class path), the Netty server takes the peer's Raft port.
            properties.set(
                    "raft.netty.server.port", Integer.toString(peers.get(id).raftPort()));
            RaftServer server = RaftServer.newBuilder()
                    .setServerId(RaftPeerId.valueOf(id))
                    .setGroup(group)
                    .setStateMachine(new EchoMachine())
                    .setProperties(properties)
                    .setOption(RaftStorage.StartupOption.RECOVER)
                    .build();
            server.start();
            servers.add(server);
        }
        return servers;
    }

    static RaftServer awaitLeader(List<RaftServer> servers) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            for (RaftServer s : servers) {
                RaftServer.Division d = s.getDivision(GROUP);
                if (d.getInfo().isLeader() && d.getInfo().isLeaderReady()) {
                    return s;
                }
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException("no leader after 30 s");
    }

    private static void run(
            RaftClientAsynchronousProtocol submit, RaftPeerId leader, int threads, byte[] body, Duration d)
            throws InterruptedException {
        measure(submit, leader, threads, body, d);
    }

    static Result measure(
            RaftClientAsynchronousProtocol submit, RaftPeerId leader, int threads, byte[] body, Duration d)
            throws InterruptedException {
        ClientId client = ClientId.randomId();
        AtomicLong callIds = new AtomicLong();
        AtomicLong writes = new AtomicLong();
        AtomicLong submitterCpu = new AtomicLong();
        java.util.concurrent.atomic.AtomicReference<Throwable> failure =
                new java.util.concurrent.atomic.AtomicReference<>();
        Histogram latency = new Histogram(3);
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Map<Long, Long> before = threadCpu(mx);
        long cpuBefore = processCpu();
        long start = System.nanoTime();
        long end = start + d.toNanos();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(
                    () -> {
                        long cpu0 = mx.getCurrentThreadCpuTime();
                        Histogram mine = new Histogram(3);
                        Message message = Message.valueOf(ByteString.copyFrom(body));
                        long n = 0;
                        while (System.nanoTime() < end) {
                            RaftClientRequest request = RaftClientRequest.newBuilder()
                                    .setClientId(client)
                                    .setServerId(leader)
                                    .setGroupId(GROUP)
                                    .setCallId(callIds.incrementAndGet())
                                    .setMessage(message)
                                    .setType(RaftClientRequest.writeRequestType())
                                    .build();
                            long t0 = System.nanoTime();
                            try {
                                RaftClientReply reply =
                                        submit.submitClientRequestAsync(request).get(10, TimeUnit.SECONDS);
                                if (!reply.isSuccess()) {
                                    throw new IllegalStateException("write failed: " + reply.getException());
                                }
                                if (!reply.getMessage().getContent().equals(message.getContent())) {
                                    throw new IllegalStateException("the reply is not the entry written");
                                }
                            } catch (Exception e) {
                                throw new IllegalStateException("write failed", e);
                            }
                            mine.recordValue(System.nanoTime() - t0);
                            n++;
                        }
                        writes.addAndGet(n);
                        submitterCpu.addAndGet(mx.getCurrentThreadCpuTime() - cpu0);
                        synchronized (latency) {
                            latency.add(mine);
                        }
                    },
                    "floor-submitter-" + t);
            w.setUncaughtExceptionHandler((thread, e) -> failure.compareAndSet(null, e));
            workers.add(w);
            w.start();
        }
        for (Thread w : workers) {
            w.join();
        }
        if (failure.get() != null) {
            throw new IllegalStateException(
                    "a submitting thread failed: " + failure.get().getMessage(), failure.get());
        }
        long nanos = System.nanoTime() - start;
        long cpu = processCpu() - cpuBefore;
        Map<String, Long> byGroup = new LinkedHashMap<>();
        for (java.lang.management.ThreadInfo info : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (info == null) {
                continue;
            }
            long now = mx.getThreadCpuTime(info.getThreadId());
            long was = before.getOrDefault(info.getThreadId(), 0L);
            if (now > 0) {
                byGroup.merge(group(info.getThreadName()), now - was, Long::sum);
            }
        }
        byGroup.put("submitting threads", submitterCpu.get());
        // The JIT compiler and GC threads are not Java threads, and threads that ended in the window are no longer
        // listed: what is left of the process's CPU is theirs.
        long listed = byGroup.values().stream().mapToLong(Long::longValue).sum();
        byGroup.put("JIT, GC, ended threads", Math.max(0, cpu - listed));
        return new Result(writes.get(), nanos, latency, cpu, byGroup);
    }

    private static Map<Long, Long> threadCpu(ThreadMXBean mx) {
        Map<Long, Long> cpu = new LinkedHashMap<>();
        for (long id : mx.getAllThreadIds()) {
            long n = mx.getThreadCpuTime(id);
            if (n > 0) {
                cpu.put(id, n);
            }
        }
        return cpu;
    }

    /** Thread names without their numbers and member ids, so that like threads add up. */
    static String group(String name) {
        String n = name.replaceAll("[0-9a-f]{8}-[0-9a-f-]{27}", "G")
                .replaceAll("@group-[0-9A-F]+", "")
                .replaceAll("n[1-3]", "nX")
                .replaceAll("[-_]?\\d+$", "")
                .replaceAll("\\d+", "#");
        return n.length() > 28 ? n.substring(0, 28) : n;
    }

    private static long processCpu() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
