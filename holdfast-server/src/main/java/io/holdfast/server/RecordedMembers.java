package io.holdfast.server;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerProto;

/**
 * The members a node's data directory records, against the {@code --peers} it was started with.
 * After the first start the recorded members are the truth: Ratis keeps the last configuration it
 * applied ({@code current/raft-meta.conf}) and every change made with {@code holdfast members}
 * since, and it uses those, not {@code --peers}, when the node starts again.
 *
 * <ul>
 *   <li>A node that is no longer among the recorded members (it was removed) refuses to start: it
 *       would only knock on the others' doors.
 *   <li>A {@code --peers} that gives a recorded member another Raft address refuses to start: one of
 *       the two is wrong, and the operator must say which (a member moves by being replaced).
 *   <li>A {@code --peers} that lists other members than those recorded (a member added or removed
 *       while this node was down, or its configuration file not yet updated) is not refused: the
 *       node starts with the recorded members and logs one line saying so. Refusing would keep a
 *       node that missed a change from ever catching up with it.
 * </ul>
 */
final class RecordedMembers {
    private RecordedMembers() {}

    /**
     * @param groupDir the Raft group's directory in the node's data directory
     * @return a line to log when {@code --peers} differs harmlessly from the recorded members
     * @throws HoldfastServer.StartupException when the node must not start, in one line
     */
    static Optional<String> check(ServerConfig config, Path groupDir) throws HoldfastServer.StartupException {
        Optional<Recorded> read = read(groupDir);
        if (read.isEmpty()) {
            return Optional.empty();
        }
        Map<String, String> recorded = read.get().members();
        if (!recorded.containsKey(config.nodeId())) {
            throw new HoldfastServer.StartupException(
                    "node " + config.nodeId() + " is no longer a member of its cluster (the members recorded in "
                            + config.dataDir() + " are " + String.join(", ", recorded.keySet())
                            + "): leave it stopped, or empty its data directory and add it again with holdfast"
                            + " members add (docs/operations.md)",
                    null);
        }
        for (Map.Entry<String, ServerConfig.Peer> e : config.peers().entrySet()) {
            String was = recorded.get(e.getKey());
            if (was != null && !was.equals(e.getValue().raftAddress())) {
                throw new HoldfastServer.StartupException(
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

    /**
     * The configuration recorded in a data directory: its log index and members (voters and
     * learners, id to Raft address).
     */
    record Recorded(long index, Map<String, String> members) {}

    /**
     * @return the configuration {@code current/raft-meta.conf} records, or empty when there is none
     *     yet (a first start) or it lists nobody
     * @throws HoldfastServer.StartupException when the file cannot be read, in one line
     */
    static Optional<Recorded> read(Path groupDir) throws HoldfastServer.StartupException {
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
            throw new HoldfastServer.StartupException(
                    "cannot read the members recorded in " + file + ": " + HoldfastServer.rootMessage(e), e);
        }
        return recorded.isEmpty() ? Optional.empty() : Optional.of(new Recorded(index, recorded));
    }
}
