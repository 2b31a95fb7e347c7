package io.holdfast.floors.sofajraft;

import com.alipay.sofa.jraft.Closure;
import com.alipay.sofa.jraft.Iterator;
import com.alipay.sofa.jraft.JRaftServiceFactory;
import com.alipay.sofa.jraft.Node;
import com.alipay.sofa.jraft.RaftGroupService;
import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.conf.Configuration;
import com.alipay.sofa.jraft.core.DefaultJRaftServiceFactory;
import com.alipay.sofa.jraft.core.StateMachineAdapter;
import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.entity.Task;
import com.alipay.sofa.jraft.option.NodeOptions;
import com.alipay.sofa.jraft.option.RaftOptions;
import com.alipay.sofa.jraft.storage.LogStorage;
import com.alipay.sofa.jraft.storage.impl.RocksDBLogStorage;
import com.alipay.sofa.jraft.storage.log.RocksDBSegmentLogStorage;
import io.holdfast.floors.Engine;
import io.holdfast.floors.Ports;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * SOFAJRaft (jraft-core) under the floor: one or three nodes of one group in this JVM, talking SOFABolt (the
 * engine's production RPC) over loopback, an echo state machine, and writes applied to the leader's {@link Node}
 * in this process.
 *
 * <p>Variants, by row name, differ only in the log storage, chosen through a {@link JRaftServiceFactory}; both are
 * durable and both ship in jraft-core:
 *
 * <ul>
 *   <li>{@code sofajraft}: the default, {@link RocksDBLogStorage} (every entry in RocksDB; a batch is one
 *       {@code WriteBatch} written with {@code WriteOptions.sync}, so RocksDB fsyncs its WAL before the write
 *       returns);
 *   <li>{@code sofajraft-segment}: {@link RocksDBSegmentLogStorage}, values at or above a threshold (4 KiB by
 *       default) go to mmapped 1 GiB segment files forced with {@code MappedByteBuffer.force()}, and their
 *       locations, and every smaller value, to RocksDB as above. With the floor's 64-byte entries and the default
 *       threshold every entry lands in RocksDB, so this row is the default path plus the segment bookkeeping;
 *       {@code valueSizeThreshold=0} sends every entry through the segments (two syncs per batch).
 * </ul>
 *
 * The file-based "logit" storage is not in jraft-core 1.4.x (it is the separate {@code java-log-storage-impl}
 * artifact, and {@code HybridLogStorage} was removed in 1.4.0), so it has no row here.
 *
 * <p>Settings a production user would run a durable group with: the engine's defaults (election timeout 1 s, apply
 * batch 32, replicator pipeline, {@code maxAppendBufferSize} 256 KiB, RocksDB statistics on), with
 * {@link RaftOptions#setSync} set explicitly to {@code fsync} (so the log is fsynced before a member counts an
 * entry as stable, and the term and vote too, as {@code isSyncMeta()} follows it). One member elects itself as soon
 * as it starts, whatever the timeout. No snapshot URI is set, so the node takes no snapshots: the floor measures
 * the write path alone. Accepted {@code settings} keys, each on every member: {@code electionTimeoutMs} (an
 * integer), {@code openStatistics} ({@code true}/{@code false}, RocksDB's statistics), and for
 * {@code sofajraft-segment} {@code valueSizeThreshold} (bytes); any other key fails {@link #start}.
 *
 * <p>Contract: {@link #start} returns once the leader has committed and applied one probe entry; a write's future
 * completes with the entry's own bytes, from the leader's state machine, once the entry is stable on a majority
 * and applied there, or fails with the engine's status. What it does not promise: that the leader stays the leader
 * (a write after a change of leader fails with {@code EPERM}; the floor ends rather than counting it).
 *
 * <p>Failure story: a {@code RaftOptions} left to a shared default could be flipped to {@code sync=false}
 * elsewhere and the rows would report page-cache speed; {@link #durable()} therefore reads the flag back from
 * every member's own log storage as the engine built it, not from what this class asked for.
 */
public final class SofaJRaftEngine implements Engine {
    /** The variants, by row name. */
    public static final List<String> NAMES = List.of("sofajraft", "sofajraft-segment");

    private static final String GROUP = "holdfast-floor";
    private static final Set<String> KEYS = Set.of("electionTimeoutMs", "openStatistics", "valueSizeThreshold");
    private static final int SEGMENT_FILE_BYTES = 1 << 30; // jraft-core's default segment size
    private static final int SEGMENT_VALUE_THRESHOLD = 4 * 1024; // jraft-core's default
    private static final long START_SECONDS = 30;

    private final String name;
    private final boolean segment;
    private final List<RaftGroupService> services = new ArrayList<>();
    private final List<EchoMachine> machines = new ArrayList<>();
    private final List<Durability> storages = new CopyOnWriteArrayList<>();
    private Node leader;
    private EchoMachine leaderMachine;
    private long appliedAtStart;

    /** The variant {@code name}: one of {@link #NAMES}. */
    public SofaJRaftEngine(String name) {
        if (!NAMES.contains(name)) {
            throw new IllegalArgumentException(
                    "unknown SOFAJRaft variant " + name + "; known: " + String.join(", ", NAMES));
        }
        this.name = name;
        this.segment = name.equals("sofajraft-segment");
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void start(int nodes, Path dir, boolean fsync, Map<String, String> settings) throws Exception {
        for (String key : settings.keySet()) {
            if (!KEYS.contains(key) || (key.equals("valueSizeThreshold") && !segment)) {
                throw new IllegalArgumentException(name + " takes no setting " + key + "; it takes "
                        + (segment
                                ? "electionTimeoutMs, openStatistics, valueSizeThreshold"
                                : "electionTimeoutMs, openStatistics"));
            }
        }
        int electionTimeoutMs = Integer.parseInt(settings.getOrDefault("electionTimeoutMs", "1000"));
        int threshold = Integer.parseInt(
                settings.getOrDefault("valueSizeThreshold", Integer.toString(SEGMENT_VALUE_THRESHOLD)));
        List<PeerId> peers = new ArrayList<>();
        for (int i = 0; i < nodes; i++) {
            peers.add(new PeerId("127.0.0.1", Ports.free()));
        }
        Configuration conf = new Configuration(peers);
        for (int i = 0; i < nodes; i++) {
            Path data = Files.createDirectories(dir.resolve("n" + (i + 1)));
            RaftOptions raft = new RaftOptions();
            raft.setSync(fsync);
            if (settings.containsKey("openStatistics")) {
                raft.setOpenStatistics(Boolean.parseBoolean(settings.get("openStatistics")));
            }
            NodeOptions options = new NodeOptions();
            options.setElectionTimeoutMs(electionTimeoutMs);
            options.setInitialConf(conf.copy());
            options.setLogUri(data.resolve("log").toString());
            options.setRaftMetaUri(data.resolve("meta").toString());
            options.setRaftOptions(raft);
            options.setServiceFactory(new StorageFactory(segment, threshold, storages));
            EchoMachine machine = new EchoMachine();
            options.setFsm(machine);
            RaftGroupService service = new RaftGroupService(GROUP, peers.get(i), options);
            services.add(service);
            machines.add(machine);
            service.start();
        }
        awaitWritableLeader();
        appliedAtStart = leaderMachine.applied.get();
    }

    /** Polls for a leader, then proves it takes writes with one probe entry; retries if leadership moves. */
    private void awaitWritableLeader() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_SECONDS);
        Exception last = null;
        while (System.nanoTime() < deadline) {
            for (int i = 0; i < services.size(); i++) {
                Node node = services.get(i).getRaftNode();
                if (node != null && node.isLeader()) {
                    leader = node;
                    leaderMachine = machines.get(i);
                    try {
                        write(new byte[] {1}).get(5, TimeUnit.SECONDS);
                        return;
                    } catch (ExecutionException | TimeoutException e) {
                        last = e;
                    }
                }
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException(
                "SOFAJRaft: no leader took a write within " + START_SECONDS + " s"
                        + (last == null ? "" : " (last: " + last.getMessage() + ")"),
                last);
    }

    @Override
    public CompletableFuture<byte[]> write(byte[] entry) {
        EchoClosure done = new EchoClosure();
        leader.apply(new Task(ByteBuffer.wrap(entry), done));
        return done.answer;
    }

    @Override
    public long applied() {
        return leaderMachine.applied.get() - appliedAtStart;
    }

    @Override
    public boolean durable() {
        return storages.size() == services.size()
                && storages.stream().allMatch(Durability::syncsBeforeAcknowledging)
                && services.stream()
                        .allMatch(s -> s.getRaftNode().getRaftOptions().isSync());
    }

    @Override
    public void close() throws InterruptedException {
        for (RaftGroupService s : services) {
            s.shutdown();
        }
        for (RaftGroupService s : services) {
            s.join();
        }
    }

    /** Answers each entry with its own bytes, on the leader through the entry's closure; counts what it applied. */
    static final class EchoMachine extends StateMachineAdapter {
        final AtomicLong applied = new AtomicLong();

        @Override
        public void onApply(Iterator iter) {
            while (iter.hasNext()) {
                Closure done = iter.done();
                // Counted before the write is answered: a writer that sees its answer and then reads
                // the count must find its entry in it (the check in Floor.measureAndCheck).
                applied.incrementAndGet();
                if (done instanceof EchoClosure echo) {
                    ByteBuffer data = iter.getData();
                    byte[] answer = new byte[data.remaining()];
                    data.get(answer);
                    echo.answer.complete(answer);
                }
                if (done != null) {
                    done.run(Status.OK());
                }
                iter.next();
            }
        }
    }

    /** The write's future; the engine runs it with an error status when the entry is not applied here. */
    static final class EchoClosure implements Closure {
        final CompletableFuture<byte[]> answer = new CompletableFuture<>();

        @Override
        public void run(Status status) {
            if (!status.isOk()) {
                answer.completeExceptionally(new IllegalStateException("SOFAJRaft refused the write: " + status));
            }
        }
    }

    /** A log storage that says, as the engine built it, whether it syncs before an append returns. */
    interface Durability {
        boolean syncsBeforeAcknowledging();
    }

    private static final class RocksDb extends RocksDBLogStorage implements Durability {
        RocksDb(String uri, RaftOptions raft) {
            super(uri, raft);
        }

        @Override
        public boolean syncsBeforeAcknowledging() {
            return isSync();
        }
    }

    private static final class Segments extends RocksDBSegmentLogStorage implements Durability {
        Segments(String uri, RaftOptions raft, int threshold) {
            super(uri, raft, threshold, SEGMENT_FILE_BYTES);
        }

        @Override
        public boolean syncsBeforeAcknowledging() {
            return isSync();
        }
    }

    /** The engine's default services, with the variant's log storage. */
    private static final class StorageFactory extends DefaultJRaftServiceFactory {
        private final boolean segment;
        private final int threshold;
        private final List<Durability> created;

        StorageFactory(boolean segment, int threshold, List<Durability> created) {
            this.segment = segment;
            this.threshold = threshold;
            this.created = created;
        }

        @Override
        public LogStorage createLogStorage(String uri, RaftOptions raft) {
            LogStorage storage = segment ? new Segments(uri, raft, threshold) : new RocksDb(uri, raft);
            created.add((Durability) storage);
            return storage;
        }
    }
}
