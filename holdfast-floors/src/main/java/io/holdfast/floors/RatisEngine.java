package io.holdfast.floors;

import io.holdfast.server.HoldfastServer;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.raft.LockStateMachine;
import java.io.IOException;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientAsynchronousProtocol;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.ExitUtils;

/**
 * Apache Ratis with the settings every Holdfast node runs with ({@link HoldfastServer#raftProperties}), members
 * talking gRPC (Holdfast's transport) or Netty; requests enter the leader's division in this process.
 *
 * <p>{@code ratis-grpc} and {@code ratis-netty} run the {@link EchoMachine}: the engine's floor. {@code ratis-table}
 * runs Holdfast's own state machine ({@link LockStateMachine}: the command and entry codecs, the admission check
 * before logging, the lock table) over gRPC with bench-peers' W1 entries ({@link TableWrites}) in place of the
 * given bytes: the floor of a Holdfast node without its request path (client transport, batching, sessions'
 * heartbeats, events, watches). The two read apart what the engine costs and what the table adds; the server's
 * W1 in the same hour gives the rest.
 */
final class RatisEngine implements Engine {
    static final RaftGroupId GROUP = RaftGroupId.valueOf(UUID.fromString("6b1e5c2a-0000-4000-8000-00000000f100"));

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

    private static final int START_ATTEMPTS = 3;

    private final IntSupplier ports;
    private final boolean netty;
    /** W1's entries and the check of their answers, for {@code ratis-table}; null for the echo floors. */
    private final TableWrites table;

    private final List<RaftServer> servers = new ArrayList<>();
    private final ClientId client = ClientId.randomId();
    private final AtomicLong callIds = new AtomicLong();
    private RaftServer leader;
    private RaftServer.Division division;
    private RaftClientAsynchronousProtocol submit;
    private long appliedAtStart;
    private boolean durable;

    /** {@code ratis-grpc} (Holdfast's transport), {@code ratis-netty}, or {@code ratis-table} (gRPC). */
    RatisEngine(String name) {
        this(name, Ports::free);
    }

    /** As above, the members' ports taken from {@code ports}. */
    RatisEngine(String name, IntSupplier ports) {
        this.ports = ports;
        this.netty = name.equals("ratis-netty");
        this.table = name.equals("ratis-table") ? new TableWrites() : null;
    }

    @Override
    public String name() {
        return netty ? "ratis-netty" : table != null ? "ratis-table" : "ratis-grpc";
    }

    /**
     * Starts the members on ports free a moment ago. Another process may take one in between (CI runs suites side
     * by side); Ratis's gRPC server then fails to bind and calls {@code ExitUtils.terminate}, which would end this
     * JVM. With the JVM's exit disabled it throws instead, and the start is tried again on fresh ports.
     */
    @Override
    public void start(int nodes, Path dir, boolean fsync, Map<String, String> settings) throws Exception {
        ExitUtils.disableSystemExit();
        for (int attempt = 1; ; attempt++) {
            Path attemptDir = Files.createDirectories(dir.resolve("start-" + attempt));
            try {
                startOnFreePorts(nodes, attemptDir, fsync, settings);
                return;
            } catch (Exception e) {
                if (!aPortWasTaken(e)) {
                    throw e;
                }
                closeStarted();
                if (attempt == START_ATTEMPTS) {
                    throw new IllegalStateException(
                            "Ratis: the members did not start in " + START_ATTEMPTS + " attempts on fresh ports", e);
                }
            }
        }
    }

    private static boolean aPortWasTaken(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ExitUtils.ExitException || t instanceof BindException) {
                return true;
            }
        }
        return false;
    }

    private void closeStarted() throws IOException {
        for (RaftServer s : servers) {
            s.close();
        }
        servers.clear();
    }

    private void startOnFreePorts(int nodes, Path dir, boolean fsync, Map<String, String> settings) throws Exception {
        Map<String, ServerConfig.Peer> peers = new LinkedHashMap<>();
        for (int i = 1; i <= nodes; i++) {
            peers.put("n" + i, new ServerConfig.Peer("127.0.0.1", ports.getAsInt(), ports.getAsInt()));
        }
        List<RaftPeer> raftPeers = new ArrayList<>();
        peers.forEach((id, p) -> raftPeers.add(
                RaftPeer.newBuilder().setId(id).setAddress(p.raftAddress()).build()));
        RaftGroup group = RaftGroup.valueOf(GROUP, raftPeers);
        durable = true;
        for (String id : peers.keySet()) {
            Path data = dir.resolve(id);
            ServerConfig config = new ServerConfig(
                    id,
                    peers,
                    data,
                    "127.0.0.1",
                    peers.get(id).clientPort(),
                    -1,
                    fsync,
                    Duration.ofMillis(nodes == 1 ? 300 : 1000));
            RaftProperties properties =
                    HoldfastServer.raftProperties(config, Files.createDirectories(data.resolve("raft")));
            settings.forEach(properties::set);
            if (netty) {
                properties.set("raft.rpc.type", "NETTY");
                properties.set(
                        "raft.netty.server.port", Integer.toString(peers.get(id).raftPort()));
            }
            durable &= !RaftServerConfigKeys.Log.unsafeFlushEnabled(properties)
                    && !RaftServerConfigKeys.Log.asyncFlushEnabled(properties);
            RaftServer server = RaftServer.newBuilder()
                    .setServerId(RaftPeerId.valueOf(id))
                    .setGroup(group)
                    .setStateMachine(table != null ? new LockStateMachine() : new EchoMachine())
                    .setProperties(properties)
                    .setOption(RaftStorage.StartupOption.RECOVER)
                    .build();
            server.start();
            servers.add(server);
        }
        leader = awaitLeader();
        division = leader.getDivision(GROUP);
        submit = (RaftClientAsynchronousProtocol) division;
        appliedAtStart = division.getInfo().getLastAppliedIndex();
    }

    private RaftServer awaitLeader() throws Exception {
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
        throw new IllegalStateException("Ratis: no leader after 30 s");
    }

    /**
     * The echo floors log {@code entry} and complete with the answer (the entry again); {@code ratis-table} logs the
     * calling thread's next W1 entry instead, checks the table's answer, and completes with {@code entry}.
     */
    @Override
    public CompletableFuture<byte[]> write(byte[] entry) {
        if (table != null) {
            TableWrites.Write w = table.next();
            return submit(w.entry()).thenApply(answer -> {
                w.check(answer);
                return entry;
            });
        }
        return submit(entry);
    }

    private CompletableFuture<byte[]> submit(byte[] entry) {
        RaftClientRequest request = RaftClientRequest.newBuilder()
                .setClientId(client)
                .setServerId(leader.getId())
                .setGroupId(GROUP)
                .setCallId(callIds.incrementAndGet())
                .setMessage(Message.valueOf(ByteString.copyFrom(entry)))
                .setType(RaftClientRequest.writeRequestType())
                .build();
        try {
            return submit.submitClientRequestAsync(request).thenApply(reply -> {
                if (!reply.isSuccess()) {
                    throw new IllegalStateException("Ratis refused the write: " + reply.getException());
                }
                return reply.getMessage().getContent().toByteArray();
            });
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public long applied() {
        return division.getInfo().getLastAppliedIndex() - appliedAtStart;
    }

    @Override
    public boolean durable() {
        return durable;
    }

    @Override
    public void close() throws IOException {
        closeStarted();
    }
}
