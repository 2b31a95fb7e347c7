package io.holdfast.server.membership;

import io.holdfast.internal.Causes;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.config.StartupException;
import io.holdfast.server.storage.RaftLogCheck;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftConfigurationProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerProto;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.RaftServerConfigKeys.Log.CorruptionPolicy;
import org.apache.ratis.server.raftlog.segmented.LogSegment;
import org.apache.ratis.server.raftlog.segmented.LogSegmentPath;

/**
 * The members a node's data directory records, against the {@code --peers} it was started with.
 * After the first start the recorded members are the truth: Ratis keeps the last configuration it
 * applied ({@code current/raft-meta.conf}) and every change made with {@code holdfast members}
 * since, and it uses those, not {@code --peers}, when the node starts again.
 *
 * <ul>
 *   <li>A node that is not among the recorded members refuses to start: it would only knock on the
 *       others' doors. Its own log says why, and the refusal says it: a configuration in the log
 *       that counts the node means it was removed; none means that a {@code holdfast members add}
 *       brought it up to date (the leader sends a new node the log before it writes the
 *       configuration that counts it) and did not complete. A log that cannot be read is taken
 *       for a removal; a removed node whose log was compacted (after a snapshot) past every
 *       configuration that counted it would be told it was never added: both lines say to empty
 *       its data directory before adding it again.
 *   <li>A {@code --peers} that gives a recorded member another Raft address refuses to start: one of
 *       the two is wrong, and the operator must say which (a member moves by being replaced).
 *   <li>A {@code --peers} that lists other members than those recorded (a member added or removed
 *       while this node was down, or its configuration file not yet updated) is not refused: the
 *       node starts with the recorded members and logs one line saying so. Refusing would keep a
 *       node that missed a change from ever catching up with it.
 * </ul>
 */
public final class RecordedMembers {
    private RecordedMembers() {}

    /**
     * @param groupDir the Raft group's directory in the node's data directory
     * @return a line to log when {@code --peers} differs harmlessly from the recorded members
     * @throws StartupException when the node must not start, in one line
     */
    public static Optional<String> check(ServerConfig config, Path groupDir) throws StartupException {
        Optional<Recorded> read = read(groupDir);
        if (read.isEmpty()) {
            return Optional.empty();
        }
        Map<String, String> recorded = read.get().members();
        if (!recorded.containsKey(config.nodeId())) {
            throw new StartupException(notAMember(config, groupDir, recorded), null);
        }
        for (Map.Entry<String, ServerConfig.Peer> e : config.peers().entrySet()) {
            String was = recorded.get(e.getKey());
            if (was != null && !was.equals(e.getValue().raftAddress())) {
                throw new StartupException(
                        "--peers gives " + e.getKey() + " the Raft address "
                                + e.getValue().raftAddress()
                                + ", but the members recorded in " + config.dataDir() + " give it " + was
                                + ": after the first start the recorded members are the truth; correct --peers (a"
                                + " member moves by being replaced: docs/operations.md)",
                        null);
            }
        }
        if (!recorded.keySet().equals(config.peers().keySet())) {
            return Optional.of(
                    "--peers lists " + String.join(", ", config.peers().keySet())
                            + " but the members recorded in " + config.dataDir() + " are "
                            + String.join(", ", recorded.keySet())
                            + " (changed with holdfast members): the recorded members are used; update --peers to match");
        }
        return Optional.empty();
    }

    /** Why a node that the recorded members do not count refuses to start: removed, or never added. */
    private static String notAMember(ServerConfig config, Path groupDir, Map<String, String> recorded) {
        String id = config.nodeId();
        String members = "the members recorded in " + config.dataDir() + " are " + String.join(", ", recorded.keySet());
        if (countedInLog(groupDir, id)) {
            return "node " + id + " is no longer a member of its cluster (" + members
                    + "): leave it stopped, or empty its data directory and add it again with holdfast members add"
                    + " (docs/operations.md)";
        }
        ServerConfig.Peer self = config.self();
        return "node " + id + " was never added to its cluster: a holdfast members add brought it up to date, but did"
                + " not complete (no configuration in its log counts it; " + members + "): empty its data directory,"
                + " start it, and run holdfast members add " + id + "=" + self.host() + ":" + self.raftPort() + ":"
                + self.clientPort() + " on the cluster (docs/operations.md)";
    }

    /**
     * Whether a configuration entry of the Raft log in {@code groupDir} counts {@code nodeId}: as a
     * voter or a learner, among the old or the new members of a change. True when the log cannot
     * be read.
     */
    static boolean countedInLog(Path groupDir, String nodeId) {
        boolean[] counted = {false};
        try {
            for (LogSegmentPath segment : RaftLogCheck.segments(groupDir)) {
                LogSegment.readSegmentFile(
                        segment.getPath().toFile(),
                        segment.getStartEnd(),
                        RaftServerConfigKeys.Log.Appender.BUFFER_BYTE_LIMIT_DEFAULT,
                        CorruptionPolicy.WARN_AND_RETURN,
                        null,
                        e -> counted[0] |= e.hasConfigurationEntry() && counts(e.getConfigurationEntry(), nodeId));
            }
        } catch (IOException | RuntimeException e) {
            return true;
        }
        return counted[0];
    }

    private static boolean counts(RaftConfigurationProto conf, String nodeId) {
        return Stream.of(
                        conf.getPeersList(),
                        conf.getOldPeersList(),
                        conf.getListenersList(),
                        conf.getOldListenersList())
                .flatMap(List::stream)
                .anyMatch(p -> p.getId().toStringUtf8().equals(nodeId));
    }

    /**
     * The newest configuration entry of the Raft log in {@code groupDir} that counts {@code nodeId}
     * (as a voter or a learner, old or new), with its log index and every member it names. This is
     * what a node knows of its membership before it has applied any configuration: Ratis writes
     * {@code raft-meta.conf} only when it applies one, and a follower that lagged from its first
     * start can be stopped before it did. Empty when the log names no such entry or cannot be read.
     */
    static Optional<Recorded> lastCountingInLog(Path groupDir, String nodeId) {
        Recorded[] last = {null};
        try {
            List<LogSegmentPath> segments = new java.util.ArrayList<>(RaftLogCheck.segments(groupDir));
            segments.sort(java.util.Comparator.comparing(LogSegmentPath::getStartEnd));
            for (LogSegmentPath segment : segments) {
                LogSegment.readSegmentFile(
                        segment.getPath().toFile(),
                        segment.getStartEnd(),
                        RaftServerConfigKeys.Log.Appender.BUFFER_BYTE_LIMIT_DEFAULT,
                        CorruptionPolicy.WARN_AND_RETURN,
                        null,
                        e -> {
                            if (e.hasConfigurationEntry() && counts(e.getConfigurationEntry(), nodeId)) {
                                last[0] = new Recorded(e.getIndex(), named(e.getConfigurationEntry()));
                            }
                        });
            }
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        return Optional.ofNullable(last[0]);
    }

    private static Map<String, String> named(RaftConfigurationProto conf) {
        Map<String, String> members = new LinkedHashMap<>();
        Stream.of(conf.getPeersList(), conf.getListenersList(), conf.getOldPeersList(), conf.getOldListenersList())
                .flatMap(List::stream)
                .forEach(p -> members.putIfAbsent(p.getId().toStringUtf8(), p.getAddress()));
        return members;
    }

    /**
     * The configuration recorded in a data directory: its log index and members (voters and
     * learners, id to Raft address).
     */
    record Recorded(long index, Map<String, String> members) {}

    /**
     * @return the configuration {@code current/raft-meta.conf} records, or empty when there is none
     *     yet (a first start) or it lists nobody
     * @throws StartupException when the file cannot be read, in one line
     */
    static Optional<Recorded> read(Path groupDir) throws StartupException {
        Path file = groupDir.resolve("current").resolve("raft-meta.conf");
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        Map<String, String> recorded = new LinkedHashMap<>();
        long index;
        try (InputStream in = Files.newInputStream(file)) {
            LogEntryProto entry = LogEntryProto.parseFrom(in);
            index = entry.getIndex();
            for (RaftPeerProto p : entry.getConfigurationEntry().getPeersList()) {
                recorded.put(p.getId().toStringUtf8(), p.getAddress());
            }
            for (RaftPeerProto p : entry.getConfigurationEntry().getListenersList()) {
                recorded.put(p.getId().toStringUtf8(), p.getAddress());
            }
        } catch (IOException | RuntimeException e) {
            throw new StartupException("cannot read the members recorded in " + file + ": " + Causes.rootMessage(e), e);
        }
        return recorded.isEmpty() ? Optional.empty() : Optional.of(new Recorded(index, recorded));
    }
}
