package io.holdfast.server.membership;

import io.holdfast.core.LockTable;
import io.holdfast.internal.Causes;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import io.holdfast.server.config.RaftSettings;
import io.holdfast.server.config.StartupException;
import io.holdfast.server.raft.ClusterIdRecord;
import io.holdfast.server.raft.TableQuery;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cluster's identity: a random id that its first leader creates, that every member keeps, and
 * that every backup carries, so that data of one cluster never mixes with another's. A cluster
 * restored from a backup is a new cluster and gets a new id.
 *
 * <p><b>How the id travels.</b> It is part of the replicated table: the first leader that finds no
 * id in the table proposes one through the log, and every replica applies it like any other
 * entry. It rides on the one command every build already applies and snapshots for the members'
 * own bookkeeping, {@link Command.ReportVersion}, under the reserved member name {@code
 * cluster-id:<uuid>} (a node id cannot hold a colon, so it names no member and moves no cluster
 * version). So the id is in every snapshot, in every snapshot a leader sends, and in every backup;
 * {@link LockTable#restored} keeps no reports, so a restored cluster's first leader creates a new
 * one. The table leaves such reports out of its members' versions ({@link LockTable#memberVersions}),
 * so the id appears in no list of members or versions. Each member also writes the id it applied to {@value #FILE} in its data directory, where a
 * node finds it before Ratis starts.
 *
 * <p><b>Why at most one id.</b> A leader proposes only once it is ready (Ratis's leader-ready: it has
 * applied every entry of earlier terms that the cluster committed) and only if its table holds no
 * id. An id committed in an earlier term is therefore in its table already; one that was logged
 * but not committed is either in its log (then committed, and applied, before it is ready) or will
 * be overwritten. Two ids can thus never both be committed, and every replica, whether it applied
 * the log from its start or loaded a snapshot, reads the same one. A new command kind would say
 * the same with its own name, but would need a protocol version and a rolling upgrade before the
 * first id could be written; a report is read by every build there is.
 *
 * <p><b>What is refused.</b> At start, a node whose data directory holds an id asks each peer for
 * its own (a read of the peer's state machine over the Raft port) and refuses to start, in one
 * line, when one answers another id: its data belongs to another cluster, and as a member it
 * could vote for, or even elect, a leader with another cluster's log. While it runs, a replica
 * whose table comes to hold an id other than the one in its directory stops ({@link
 * #mismatch}). A restore into a directory that holds an id or Raft data is refused ({@code
 * backup.Restore}).
 *
 * <p><b>Not guaranteed.</b> A peer that does not answer at start says nothing: a node started
 * while every peer of the other cluster is down is refused only later, when it applies their id.
 * Nodes of a build before the id answer no id and are not refused. Data directories of such a
 * build get an id on upgrade, from the first leader of the new build, without a refusal.
 *
 * <p><b>One failure story.</b> An operator restores last night's backup into a new three-node
 * cluster, then restarts an old node, n3, with its old data and the new cluster's {@code
 * --peers}. n3 asks n1, which answers the new id; n3 stops with "the data in /var/lib/holdfast
 * belongs to cluster 5f0c… but n1 belongs to cluster 9a41… ", exit 71, and never votes.
 */
public final class ClusterIdentity {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterIdentity.class);

    /** The file in the data directory that holds the id, one line. */
    public static final String FILE = "cluster-id";

    /** The prefix of the reserved member name under which the table records the id. */
    private final Path dataDir;

    private final String nodeId;
    private final Consumer<String> halt;
    private volatile UUID known;
    private volatile boolean proposing;

    /**
     * @param halt stops the node with a one-line reason
     */
    public ClusterIdentity(Path dataDir, String nodeId, Consumer<String> halt) throws StartupException {
        this.dataDir = dataDir;
        this.nodeId = nodeId;
        this.halt = halt;
        this.known = read(dataDir).orElse(null);
    }

    /** The id this node knows: from its data directory or the table; null while it knows none. */
    public UUID current() {
        return known;
    }

    /** The id recorded in {@code dataDir}, if any. */
    public static Optional<UUID> read(Path dataDir) throws StartupException {
        Path file = dataDir.resolve(FILE);
        try {
            return Optional.of(UUID.fromString(
                    Files.readString(file, StandardCharsets.UTF_8).strip()));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | IllegalArgumentException e) {
            throw new StartupException("cannot read the cluster id in " + file + ": " + Causes.rootMessage(e), e);
        }
    }

    /** Writes {@code id} to {@code dataDir} atomically. */
    static void write(Path dataDir, UUID id) throws IOException {
        Path file = dataDir.resolve(FILE);
        Path tmp = dataDir.resolve(FILE + ".tmp");
        Files.writeString(tmp, id + "\n", StandardCharsets.UTF_8);
        try (var channel = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The reason a node must stop when its directory holds {@code mine} and the table {@code theirs}. */
    String mismatch(UUID mine, UUID theirs) {
        return "node " + nodeId + " belongs to cluster " + mine + " (" + dataDir.resolve(FILE)
                + ") but the log it applies is cluster " + theirs + "'s: its data and its peers come from two"
                + " clusters; stop it and give it the data and --peers of one (docs/operations.md)";
    }

    /** The table now holds {@code id} (from an entry or a loaded snapshot): record or compare it. */
    public void seen(UUID id) {
        UUID mine = known;
        if (mine == null) {
            try {
                write(dataDir, id);
                known = id;
                LOG.info("Node {} belongs to cluster {}", nodeId, id);
            } catch (IOException e) {
                known = id;
                LOG.warn("Node {} cannot record its cluster id {} in {}: {}", nodeId, id, dataDir, e.toString());
            }
        } else if (!mine.equals(id)) {
            String reason = mismatch(mine, id);
            LOG.error(reason);
            halt.accept(reason);
        }
    }

    /** Looks for the id among an applied entry's commands. */
    public void applied(List<Command.Envelope> commands) {
        for (Command.Envelope c : commands) {
            if (c != null) {
                ClusterIdRecord.of(c.command()).ifPresent(this::seen);
            }
        }
    }

    /**
     * This node leads and has applied every entry committed before its term: if the table holds no
     * id, propose a new random one. (A directory's id comes only from a table, and a table never
     * loses its id but by a restore, which takes an empty directory: a leader whose directory holds
     * an id that its table lacks has another cluster's directory, and stops when the new id is
     * applied.)
     */
    public void leaderReady(Optional<UUID> inTable, Function<Command.Envelope, CompletableFuture<Reply>> propose) {
        if (inTable.isPresent()) {
            seen(inTable.get());
            return;
        }
        if (proposing) {
            return;
        }
        proposing = true;
        UUID id = UUID.randomUUID();
        propose.apply(Command.Envelope.of(0, ClusterIdRecord.report(id))).whenComplete((reply, error) -> {
            proposing = false;
            if (error != null || reply instanceof Reply.Failed) {
                LOG.warn(
                        "Node {} could not record the cluster id {} yet: {}",
                        nodeId,
                        id,
                        error != null ? Causes.rootMessage(error) : reply);
            } else {
                LOG.info("Node {} recorded the cluster id {} in the log", nodeId, id);
            }
        });
    }

    /**
     * What {@code peer} says its cluster id is (a read of its state machine over the Raft port,
     * {@link PeerViews#TIMEOUT} at most): empty when it has none, does not answer, or is of a
     * build without ids.
     */
    public static Optional<UUID> ask(
            org.apache.ratis.protocol.RaftPeer peer,
            org.apache.ratis.protocol.RaftGroup group,
            org.apache.ratis.conf.Parameters parameters) {
        org.apache.ratis.protocol.RaftGroup raftOnly = RaftSettings.raftAddressesOnly(group);
        try {
            String answer = OneShotClient.call(
                    OneShotClient.builder(
                            raftOnly, parameters, PeerViews.TIMEOUT, org.apache.ratis.retry.RetryPolicies.noRetry()),
                    client -> client.io()
                            .sendStaleRead(TableQuery.CLUSTER_ID.message(), 0, peer.getId())
                            .getMessage()
                            .getContent()
                            .toStringUtf8());
            return answer.isEmpty() ? Optional.empty() : Optional.of(UUID.fromString(answer));
        } catch (IOException | RuntimeException e) {
            LOG.debug("{} did not say its cluster id: {}", peer.getId(), e.toString());
            return Optional.empty();
        }
    }

    /**
     * Asks each peer for its cluster id before Ratis starts; refuses, in one line, when one answers
     * another id than {@code mine}. Peers that do not answer, or answer none, are passed over.
     *
     * @param ask asks one peer (its id) for its cluster id: empty for none or no answer
     */
    public static void checkPeers(
            String nodeId, Path dataDir, UUID mine, List<String> peers, Function<String, Optional<UUID>> ask)
            throws StartupException {
        if (mine == null) {
            return;
        }
        List<String> agreeing = new ArrayList<>();
        // All at once: a peer that is down costs its timeout once, not once per peer.
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newCachedThreadPool(
                io.holdfast.internal.DaemonThreads.named("holdfast-cluster-id"));
        java.util.Map<String, CompletableFuture<Optional<UUID>>> answers = new java.util.LinkedHashMap<>();
        try {
            for (String peer : peers) {
                answers.put(peer, CompletableFuture.supplyAsync(() -> ask.apply(peer), pool));
            }
        } finally {
            pool.shutdown();
        }
        for (String peer : peers) {
            Optional<UUID> theirs = answers.get(peer).join();
            if (theirs.isPresent() && !theirs.get().equals(mine)) {
                throw new StartupException(
                        "the data in " + dataDir + " belongs to cluster " + mine + " but " + peer
                                + " belongs to cluster " + theirs.get() + ": node " + nodeId
                                + " refuses to join another cluster's members (check --peers and --data-dir;"
                                + " docs/operations.md)",
                        null);
            }
            theirs.ifPresent(t -> agreeing.add(peer));
        }
        LOG.info(
                "Node {} belongs to cluster {}{}",
                nodeId,
                mine,
                agreeing.isEmpty() ? "" : " (as do " + String.join(", ", agreeing) + ")");
    }
}
