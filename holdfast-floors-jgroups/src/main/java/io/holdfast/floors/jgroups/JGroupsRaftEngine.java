package io.holdfast.floors.jgroups;

import io.holdfast.floors.Engine;
import io.holdfast.floors.Ports;
import java.io.DataInput;
import java.io.DataOutput;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.jgroups.JChannel;
import org.jgroups.protocols.FD_ALL3;
import org.jgroups.protocols.FD_SOCK2;
import org.jgroups.protocols.FRAG4;
import org.jgroups.protocols.MERGE3;
import org.jgroups.protocols.MFC;
import org.jgroups.protocols.TCP;
import org.jgroups.protocols.TCPPING;
import org.jgroups.protocols.UFC;
import org.jgroups.protocols.UNICAST3;
import org.jgroups.protocols.VERIFY_SUSPECT2;
import org.jgroups.protocols.pbcast.GMS;
import org.jgroups.protocols.pbcast.NAKACK2;
import org.jgroups.protocols.pbcast.STABLE;
import org.jgroups.protocols.raft.ELECTION2;
import org.jgroups.protocols.raft.FileBasedLog;
import org.jgroups.protocols.raft.NO_DUPES;
import org.jgroups.protocols.raft.RAFT;
import org.jgroups.protocols.raft.REDIRECT;
import org.jgroups.protocols.raft.Role;
import org.jgroups.raft.RaftHandle;
import org.jgroups.raft.StateMachine;
import org.jgroups.stack.Configurator;
import org.jgroups.stack.Protocol;
import org.jgroups.util.StackType;

/**
 * JGroups Raft (jgroups-raft 1.1.4, on JGroups 5.4) under the floor harness: one or three members in this JVM, each a
 * {@link JChannel} of its own talking TCP over 127.0.0.1, with a {@link RaftHandle} over an echo state machine; writes
 * go to the leader's handle in this process ({@code RaftHandle.setAsync}).
 *
 * <p>Contract, as {@link Engine}'s: {@link #start} returns once a leader has committed and applied a probe entry; a
 * write completes only once its entry is in the log of a majority and applied by the leader's state machine, whose
 * answer is the entry's own bytes. With {@code fsync} on, every member forces its log file ({@code
 * FileChannel.force}) before it acknowledges an append; the leader forces its own on the thread that counts the
 * followers' acknowledgements, before it handles any, so no entry commits before that either. {@link #durable} reads
 * {@code RAFT.logUseFsync()} back from every member's log. What it does not promise: that a follower has applied an
 * entry when the write completes (followers learn the commit index from the next append or the 1 s resend).
 *
 * <p>Variant: {@code jgroups-raft}, the file-based log ({@link FileBasedLog}, {@code RAFT.log_class}'s default in
 * 1.1.4). jgroups-raft's other logs are not variants: {@code InMemoryLog} is not durable and {@code LevelDBLog} needs
 * leveldbjni, which jgroups-raft's jar does not carry.
 *
 * <p>Settings, as a production user of a durable group on one host would run it: the protocols of JGroups 5.4's own
 * {@code tcp.xml} at their class defaults (TCP, TCPPING, MERGE3, FD_SOCK2, FD_ALL3, VERIFY_SUSPECT2, NAKACK2, UNICAST3,
 * STABLE, GMS, UFC, MFC; FRAG4 for FRAG2 and no BARRIER or STATE_TRANSFER, as jgroups-raft's {@code raft.xml}), then {@code raft.NO_DUPES} below GMS and {@code raft.ELECTION2}, {@code raft.RAFT},
 * {@code raft.REDIRECT} on top, as {@code raft.xml}. {@code ELECTION2} rather than {@code ELECTION}:
 * its pre-vote keeps a member that was cut off from deposing a working leader when it returns, which is what a lock
 * service wants; it changes elections only, not the write path. JGroups Raft has no randomised election timeout: the
 * view's coordinator starts a vote once a view holds a majority, so how fast a leader is chosen depends on failure
 * detection (FD_SOCK2 at once when a member's socket closes, FD_ALL3 40 s otherwise, VERIFY_SUSPECT2 1 s; ELECTION2's vote timeout 600 ms) and on
 * GMS's {@code join_timeout} (2 s: the first member waits that long for others before founding the view; a single
 * member waits 100 ms, since nobody else can answer). RAFT: {@code log_use_fsync} set explicitly (its default is
 * off, although {@link FileBasedLog}'s own is on: RAFT overrides it at start), {@code max_log_size} at
 * {@link Long#MAX_VALUE} so that no snapshot is taken (the default snapshots every 1 MB of log), every other RAFT
 * property at its default (the 1024-entry log cache, {@code resend_interval} 1 s). No batching is added: RAFT's one
 * runner thread groups the writes that queued while it was busy into one append and one fsync, and answers none
 * before that fsync and a majority.
 *
 * <p>{@code settings}: {@code PROTOCOL.property=value}, with PROTOCOL a protocol's simple class name above ({@code
 * RAFT.max_log_cache_size=0}, {@code TCP.bundler_type=pd}), set on every member with JGroups' own conversion, on top
 * of the settings above (so {@code RAFT.log_use_fsync=false} turns fsync off, and {@link #durable} says so); an
 * unknown protocol or property fails {@link #start} with one line naming it.
 *
 * <p>Failure story: RAFT starts with {@code log_use_fsync=false} unless told otherwise, and {@code FileBasedLog}
 * swallows an {@code IOException} from an append (it prints the stack trace and goes on), so a misconfigured member
 * acknowledges entries that are only in the page cache, or not written at all, and the floor would read many times
 * faster than the disk allows (one member: tens of thousands of writes a second instead of hundreds). This engine sets the flag, reads it back into {@link #durable}, and the test checks it.
 */
public final class JGroupsRaftEngine implements Engine {
    /** The one variant's row name. */
    public static final String NAME = "jgroups-raft";

    private static final String CLUSTER = "floor";
    private static final long START_SECONDS = 30;

    /** Answers every entry with a copy of its own bytes and counts what it applied. */
    static final class EchoMachine implements StateMachine {
        final AtomicLong applied = new AtomicLong();

        @Override
        public byte[] apply(byte[] data, int offset, int length, boolean serializeResponse) {
            applied.incrementAndGet();
            return serializeResponse ? Arrays.copyOfRange(data, offset, offset + length) : null;
        }

        @Override
        public void readContentFrom(DataInput in) {}

        @Override
        public void writeContentTo(DataOutput out) {}
    }

    private record Member(String id, JChannel channel, RaftHandle handle, EchoMachine machine) {}

    private final List<Member> members = new ArrayList<>();
    private Member leader;
    private long appliedAtStart;
    private boolean durable;

    /** {@code jgroups-raft}; any other name is refused. */
    public JGroupsRaftEngine(String name) {
        if (!NAME.equals(name)) {
            throw new IllegalArgumentException("JGroupsRaftEngine runs " + NAME + ", not " + name);
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public void start(int nodes, Path dir, boolean fsync, Map<String, String> settings) throws Exception {
        Map<String, Map<String, String>> overrides = byProtocol(settings);
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (int i = 1; i <= nodes; i++) {
            ports.put("n" + i, Ports.free());
        }
        List<String> ids = List.copyOf(ports.keySet());
        List<InetSocketAddress> hosts = new ArrayList<>();
        ports.values().forEach(p -> hosts.add(new InetSocketAddress(loopback, p)));
        BlockingQueue<Role> roleChanges = new LinkedBlockingQueue<>();
        for (String id : ids) {
            Path data = Files.createDirectories(dir.resolve(id));
            RAFT raft = new RAFT()
                    .raftId(id)
                    .members(ids)
                    .logDir(data.toString())
                    .logPrefix(id)
                    .logClass(FileBasedLog.class.getName())
                    .logUseFsync(fsync)
                    .maxLogSize(Long.MAX_VALUE);
            List<Protocol> stack = List.of(
                    new TCP().setBindAddress(loopback).setBindPort(ports.get(id)),
                    new TCPPING().setInitialHosts(hosts).setPortRange(0),
                    new MERGE3(),
                    new FD_SOCK2().setBindAddress(loopback),
                    new FD_ALL3(),
                    new VERIFY_SUSPECT2(),
                    new NAKACK2().useMcastXmit(false),
                    new UNICAST3(),
                    new STABLE(),
                    new NO_DUPES(),
                    new GMS().printLocalAddress(false).setJoinTimeout(nodes == 1 ? 100 : 2000),
                    new UFC(),
                    new MFC(),
                    new FRAG4(),
                    new ELECTION2(),
                    raft,
                    new REDIRECT());
            for (Protocol p : stack) {
                configure(p, overrides.remove(p.getName()));
            }
            EchoMachine machine = new EchoMachine();
            JChannel channel = new JChannel(stack).name(id);
            RaftHandle handle = new RaftHandle(channel, machine);
            handle.addRoleListener(roleChanges::add);
            members.add(new Member(id, channel, handle, machine));
        }
        if (!overrides.isEmpty()) {
            throw new IllegalArgumentException("jgroups-raft: no protocol "
                    + overrides.keySet().iterator().next() + " in the stack (settings are PROTOCOL.property=value)");
        }
        for (Member m : members) {
            m.channel().connect(CLUSTER);
            // RAFT replays members from its snapshot and log at start: a data dir left by another group changes them.
            if (!m.handle().raft().members().equals(ids)) {
                throw new IllegalStateException("jgroups-raft: " + m.id() + " runs with members "
                        + m.handle().raft().members() + ", not " + ids);
            }
        }
        durable = true;
        for (Member m : members) {
            durable &= m.handle().raft().logUseFsync()
                    && m.handle().raft().logClass().equals(FileBasedLog.class.getName());
        }
        leader = awaitWritableLeader(roleChanges, System.nanoTime() + TimeUnit.SECONDS.toNanos(START_SECONDS));
        appliedAtStart = leader.machine().applied.get();
    }

    /** The member that leads and has committed and applied a probe entry; the probe is not counted. */
    private Member awaitWritableLeader(BlockingQueue<Role> roleChanges, long deadline) throws InterruptedException {
        byte[] probe = {0};
        Exception last = null;
        while (System.nanoTime() < deadline) {
            for (Member m : members) {
                if (!m.handle().isLeader()) {
                    continue;
                }
                try {
                    byte[] answer = m.handle()
                            .setAsync(probe, 0, probe.length, null)
                            .get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                    if (Arrays.equals(answer, probe)) {
                        return m;
                    }
                } catch (ExecutionException | TimeoutException e) {
                    last = e;
                } catch (InterruptedException e) {
                    throw e;
                } catch (Exception e) {
                    last = e; // not the leader any more: setAsync throws
                }
            }
            // No member leads, or the one that did lost its place: wait for the next change of role.
            roleChanges.poll(Math.min(100_000_000L, Math.max(1, deadline - System.nanoTime())), TimeUnit.NANOSECONDS);
        }
        throw new IllegalStateException(
                "jgroups-raft: no leader committed a write within " + START_SECONDS + " s"
                        + (last == null ? "" : ": " + last),
                last);
    }

    @Override
    public CompletableFuture<byte[]> write(byte[] entry) {
        try {
            return leader.handle().setAsync(entry, 0, entry.length, null);
        } catch (Exception e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public long applied() {
        return leader.machine().applied.get() - appliedAtStart;
    }

    @Override
    public boolean durable() {
        return durable;
    }

    @Override
    public void close() {
        for (int i = members.size() - 1; i >= 0; i--) {
            members.get(i).channel().close();
        }
        members.clear();
    }

    /** Settings grouped by protocol name; a key without a protocol fails. */
    private static Map<String, Map<String, String>> byProtocol(Map<String, String> settings) {
        Map<String, Map<String, String>> out = new HashMap<>();
        settings.forEach((key, value) -> {
            int dot = key.indexOf('.');
            if (dot <= 0 || dot == key.length() - 1) {
                throw new IllegalArgumentException(
                        "jgroups-raft settings are PROTOCOL.property=value (RAFT.max_log_cache_size=0), not " + key);
            }
            out.computeIfAbsent(key.substring(0, dot), p -> new HashMap<>()).put(key.substring(dot + 1), value);
        });
        return out;
    }

    private static void configure(Protocol protocol, Map<String, String> properties) throws Exception {
        if (properties == null) {
            return;
        }
        Map<String, String> left = new HashMap<>(properties);
        Configurator.initializeAttrs(protocol, left, StackType.IPv4);
        if (!left.isEmpty()) {
            throw new IllegalArgumentException("jgroups-raft: " + protocol.getName() + " has no property "
                    + left.keySet().iterator().next());
        }
    }
}
