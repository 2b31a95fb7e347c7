// Ceiling 560 lines, one idea: Ratis's state machine contract for the lock table (apply, snapshots, reads,
// leadership hooks); the table and its codecs live in holdfast-core.
package io.holdfast.server;

import io.holdfast.ErrorCode;
import io.holdfast.core.CommandCodec;
import io.holdfast.core.LockTable;
import io.holdfast.core.PlantedBug;
import io.holdfast.core.Vocabulary;
import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.Reply;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Ratis adapter around {@link LockTable}: decode an entry, apply its commands, encode the
 * replies. Nothing else happens here.
 *
 * <p><b>Apply never fails, but may stop.</b> Ratis shuts a replica's division down when {@link
 * #applyTransaction} throws, and every replica would do the same on the same entry. So a command
 * that fails while applied (a damaged one, a bug in the table) becomes an error reply, and the log
 * moves on. The one exception that leaves {@link #applyTransaction} is {@link Halt}, thrown on
 * purpose: the entry holds a command of a kind this build cannot read (a newer build's leader
 * logged it), and applying the rest of the entry would make this replica differ from those that
 * can; it stops instead, with its applied index below the entry, and says why ({@link
 * StateMachineHooks#halted}).
 *
 * <p>Reads are linearizable through a barrier: a read-only Ratis request with the LINEARIZABLE
 * read option makes Ratis wait until this replica has applied the leader's commit index, then
 * {@link #query} answers the {@link TableQuery} the request holds (for the barrier, nothing) and
 * the caller reads the table under its lock.
 *
 * <p>Snapshots serialize the table under the apply lock into Ratis's snapshot directory; a damaged
 * snapshot stops the server at startup with a clear error rather than being half-loaded.
 */
final class LockStateMachine extends BaseStateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(LockStateMachine.class);
    /**
     * Verification only ({@code -Dholdfast.raft.traceApplied=true}, set by {@code holdfast verify}):
     * one line per applied entry with its index, term, a CRC of its bytes and of the table after
     * it, so that replicas that disagree can be compared entry by entry: a different entry CRC at
     * one index is a divergent log, the same entry with a different table is a non-deterministic
     * apply.
     */
    private static final Logger TRACE = LoggerFactory.getLogger("io.holdfast.server.applied");

    private static final boolean TRACE_APPLIED = Boolean.getBoolean("holdfast.raft.traceApplied");

    /**
     * Thrown out of {@link #applyTransaction} to stop this replica: the only exception that leaves
     * it (see the class comment).
     */
    static final class Halt extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        Halt(String reason) {
            super(reason);
        }
    }

    /**
     * Whether the leader checks entries for unknown command kinds before logging them; off only
     * in tests, to play a newer build's leader that logs a command this build cannot read.
     */
    volatile boolean checkKinds = true;

    private volatile SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
    private final Object lock = new Object();
    private final Set<PlantedBug> bugs;
    /** What this build applies of the log; see {@link Vocabulary}. */
    final Vocabulary vocabulary;

    private volatile LockTable table;
    private volatile StateMachineHooks hooks;

    /** A state machine over a correct table. */
    LockStateMachine() {
        this(Set.of());
    }

    /** A state machine whose table has these planted bugs (verification only); see {@link PlantedBug}. */
    LockStateMachine(Set<PlantedBug> bugs) {
        this(bugs, Vocabulary.CURRENT);
    }

    /**
     * A state machine that applies what {@code vocabulary} knows; tests give it another one to play
     * an older or newer build (see {@link Vocabulary}).
     */
    LockStateMachine(Set<PlantedBug> bugs, Vocabulary vocabulary) {
        this.bugs = Set.copyOf(bugs);
        this.vocabulary = vocabulary;
        this.table = new LockTable(this.bugs);
    }

    /**
     * The members whose builds must be able to apply what is logged now: every voter and learner
     * of the current configuration and, during a change, of the previous one too.
     */
    Set<String> members() throws IOException {
        var conf = getServer().join().getDivision(getGroupId()).getRaftConf();
        Set<String> ids = new java.util.TreeSet<>();
        for (var role : List.of(
                org.apache.ratis.proto.RaftProtos.RaftPeerRole.FOLLOWER,
                org.apache.ratis.proto.RaftProtos.RaftPeerRole.LISTENER)) {
            conf.getAllPeers(role).forEach(p -> ids.add(p.getId().toString()));
        }
        return ids;
    }

    /** The members' protocol version: the lowest reported, never below the one recorded ({@link LockTable#clusterVersion}). */
    int clusterVersion() throws IOException {
        Set<String> members = members();
        return read(t -> t.clusterVersion(members));
    }

    /**
     * Why a command of this type must not be logged now, or null: this build does not know it, or
     * it is newer than the cluster's version, so a member could not apply it. The message says
     * which members hold the cluster back. Commands of version 1 need no look-up.
     */
    String refusal(int type) {
        if (!vocabulary.knows(type)) {
            return "is of a kind this build does not know";
        }
        int since = vocabulary.since(type);
        if (since <= 1) {
            return null;
        }
        // The cluster's recorded version is a floor: a member that has not reported (one just
        // added, every member of a cluster just restored) or that reports less does not lower it.
        if (since <= read(LockTable::versionFloor)) {
            return null;
        }
        Set<String> members;
        try {
            members = members();
        } catch (IOException | RuntimeException e) {
            return "needs protocol version " + since + " and the members are not known yet";
        }
        // This member runs this build: it speaks its version even before its report is logged (a
        // single node takes new commands from its start, not a report's round trip later).
        String self = getId() == null ? null : getId().toString();
        Map<String, Integer> reported = read(LockTable::memberVersions);
        List<String> behind = new ArrayList<>();
        for (String m : members) {
            Integer v = m.equals(self) ? Integer.valueOf(vocabulary.version()) : reported.get(m);
            if (v == null) {
                behind.add(m + " has not reported its version");
            } else if (v < since) {
                behind.add(m + " speaks " + v);
            }
        }
        if (behind.isEmpty()) {
            return null;
        }
        return "needs protocol version " + since + ", which not every member speaks (" + String.join(", ", behind)
                + "): upgrade every member first (docs/operations.md)";
    }

    /**
     * The command as the leader logs it now. A register write whose fence must be the writer's own
     * grant ({@link Command.RegisterSet#ownFence()}, command type 16, protocol version 4) is logged
     * as type 10 instead, whose fence may be any session's current grant, while {@link #refusal}
     * refuses type 16: a member still speaks 3 or less, the members are not known yet, or this
     * build plays an older one. Type 10 is what every build reads, so a rolling upgrade keeps
     * taking register writes, with the older check until the last member reports 4. A write that
     * attaches its key or gives it a time to live (type 18, protocol version 6) has no older form:
     * it is returned as it is, for the version check to refuse. Every other command is returned as
     * it is.
     */
    Command loggable(Command command) {
        if (command instanceof Command.RegisterSet set
                && set.ownFence()
                && !set.leased()
                && refusal(CommandCodec.typeOf(set)) != null) {
            return set.withAnyFence();
        }
        return command;
    }

    void setHooks(StateMachineHooks hooks) {
        this.hooks = hooks;
    }

    /** Runs {@code read} on the table under the apply lock. */
    <T> T read(Function<LockTable, T> read) {
        return readAt((t, at) -> read.apply(t));
    }

    /** {@link #read}, given the position right after the last entry applied (where a key page stands). */
    <T> T readAt(java.util.function.BiFunction<LockTable, io.holdfast.model.ChangePosition, T> read) {
        synchronized (lock) {
            return read.apply(
                    table,
                    new io.holdfast.model.ChangePosition(
                            getLastAppliedTermIndex().getIndex() + 1, 0));
        }
    }

    /**
     * {@code "<appliedIndex>:<crc32 of the table's snapshot form>"}, taken atomically: replicas
     * that applied the same prefix of the log show the same string.
     */
    String digest() {
        synchronized (lock) {
            return getLastAppliedTermIndex().getIndex() + ":" + crc(snapshotBytes());
        }
    }

    /** The table in its snapshot form, taken under the apply lock (to compare replicas). */
    byte[] tableBytes() {
        synchronized (lock) {
            return snapshotBytes();
        }
    }

    /**
     * Writes the table's snapshot form to {@code file} with the entry it applied last, taken
     * together: a backup's contents, on disk rather than in memory, whatever the table's size.
     */
    BackupFile.Header backupTo(java.nio.file.Path file, long nowMillis) throws IOException {
        synchronized (lock) {
            TermIndex last = getLastAppliedTermIndex();
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
                table.writeSnapshot(out);
            }
            return new BackupFile.Header(
                    last == null ? -1 : last.getIndex(),
                    last == null ? 0 : last.getTerm(),
                    nowMillis,
                    ClusterIdentity.inTable(table).orElse(null),
                    Files.size(file));
        }
    }

    /** The table's snapshot form; call under the apply lock. */
    private byte[] snapshotBytes() {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try {
            table.writeSnapshot(out);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static String crc(byte[] bytes) {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(bytes);
        return Long.toHexString(crc.getValue());
    }

    /**
     * Ratis calls this once per division. A second call comes only when {@link JoinRescue} started
     * a new member's division again: the table, the applied index and the snapshot storage of the
     * first start are dropped, and the new division starts from the newest snapshot in its storage
     * (the one the rescue took), as a node restarted from a snapshot does.
     */
    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        boolean again = getLifeCycle().getCurrentState() != LifeCycle.State.NEW;
        super.initialize(server, groupId, raftStorage);
        if (again) {
            pause();
            synchronized (lock) {
                table = new LockTable(bugs);
                setLastAppliedTermIndex(TermIndex.INITIAL_VALUE);
                storage = new SimpleStateMachineStorage();
            }
            StateMachineHooks h = hooks;
            if (h != null) {
                h.tableLoaded(TermIndex.INITIAL_VALUE.getIndex());
            }
        }
        storage.init(raftStorage);
        load(storage.getLatestSnapshot());
        getLifeCycle().transition(LifeCycle.State.STARTING);
        getLifeCycle().transition(LifeCycle.State.RUNNING);
    }

    /**
     * Ratis pauses the state machine before it installs a snapshot sent by the leader, and checks
     * that it is PAUSED before {@link #reinitialize()} loads it. The base class's pause does
     * nothing: without this, a follower that fell behind a purged log closed its Raft division on
     * the snapshot (found by {@code holdfast verify}'s snapshot-catch-up scenario).
     */
    @Override
    public void pause() {
        if (getLifeCycle().getCurrentState() == LifeCycle.State.RUNNING) {
            getLifeCycle().transition(LifeCycle.State.PAUSING);
            getLifeCycle().transition(LifeCycle.State.PAUSED);
        }
    }

    /** Loads the newest snapshot (after {@link #pause()}, one the leader sent) and runs again. */
    @Override
    public void reinitialize() throws IOException {
        SingleFileSnapshotInfo sent = storage.loadLatestSnapshot();
        if (sent != null && bugs.contains(PlantedBug.SENT_SNAPSHOT_IGNORED)) {
            // PLANTED BUG (verification only): sent-snapshot-ignored: the index moves, the table stays.
            synchronized (lock) {
                setLastAppliedTermIndex(sent.getTermIndex());
            }
        } else {
            load(sent);
        }
        if (getLifeCycle().getCurrentState() == LifeCycle.State.PAUSED) {
            getLifeCycle().transition(LifeCycle.State.STARTING);
            getLifeCycle().transition(LifeCycle.State.RUNNING);
        }
    }

    private void load(SingleFileSnapshotInfo snapshot) throws IOException {
        if (snapshot == null) {
            return;
        }
        File file = snapshot.getFile().getPath().toFile();
        if (!file.exists()) {
            throw new IOException("snapshot file " + file + " is missing");
        }
        if (snapshot.getFile().getFileDigest() != null) {
            MD5FileUtil.verifySavedMD5(file, snapshot.getFile().getFileDigest());
        }
        LockTable loaded;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file.toPath()))) {
            loaded = LockTable.readSnapshot(in, bugs);
        } catch (IOException e) {
            throw new IOException("snapshot " + file + " cannot be loaded: " + e.getMessage(), e);
        }
        synchronized (lock) {
            table = loaded;
            setLastAppliedTermIndex(snapshot.getTermIndex());
            if (TRACE_APPLIED) {
                TRACE.info(
                        "loaded {} term {} snapshot table {} token {}",
                        snapshot.getIndex(),
                        snapshot.getTerm(),
                        crc(snapshotBytes()),
                        table.lastToken());
            }
        }
        StateMachineHooks h = hooks;
        if (h != null) {
            h.tableLoaded(snapshot.getIndex());
        }
        LOG.info(
                "Loaded snapshot {} ({} sessions, {} locks)",
                file.getName(),
                loaded.sessionCount(),
                loaded.resourceCount());
    }

    @Override
    public SimpleStateMachineStorage getStateMachineStorage() {
        return storage;
    }

    /**
     * On the leader, before an entry is logged: an entry with a command of a kind this build does
     * not know is refused, so that a client of the Raft port cannot log what no replica can apply
     * (every replica would then stop; see {@link #applyTransaction}); so is one with a command
     * newer than the cluster's version ({@link #refusal}), which a member of an older build could
     * not apply. The leader's own service checks the second before proposing, with a typed error;
     * this is what holds for every client of the Raft port.
     */
    @Override
    public TransactionContext startTransaction(org.apache.ratis.protocol.RaftClientRequest request) throws IOException {
        TransactionContext trx = super.startTransaction(request);
        if (!checkKinds) {
            return trx;
        }
        String refused = EntryCodec.refusal(request.getMessage().getContent().toByteArray(), this::refusal);
        if (refused != null) {
            trx.setException(new IllegalArgumentException("not logged: " + refused));
        }
        return trx;
    }

    /**
     * Applies an entry's commands. An entry that holds a command of a kind this build does not
     * know (a newer build's leader wrote it) is not applied at all: the replica stops, with one
     * line naming the entry, instead of applying the rest and differing from the replicas that
     * know the command. It throws {@link Halt}, so Ratis closes this replica's division and its
     * applied index stays below the entry; the node's process exits (see {@link StateMachineHooks#halted}).
     * Any other failure while applying is answered with an error reply and never thrown.
     *
     * @throws Halt when the entry holds a command of a kind this build does not know
     */
    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        LogEntryProto entry = trx.getLogEntry();
        List<Command.Envelope> commands = List.of();
        List<Reply> replies = new ArrayList<>();
        List<List<Event>> events = new ArrayList<>();
        List<io.holdfast.WatchEvent> changes = new ArrayList<>(0);
        long tableNow = 0;
        long nextDeadline = Long.MAX_VALUE;
        try {
            byte[] data = entry.getStateMachineLogEntry().getLogData().toByteArray();
            try {
                commands = EntryCodec.decodeCommands(data, vocabulary);
            } catch (EntryCodec.UnknownCommandKind e) {
                String reason = "entry " + entry.getIndex()
                        + " of the Raft log holds a command this build cannot read ("
                        + e.getMessage() + "), written by a newer build: this node stops instead of applying the log"
                        + " differently from the others; upgrade it and start it again (docs/operations.md)";
                LOG.error(reason);
                StateMachineHooks h = hooks;
                if (h != null) {
                    h.halted(reason);
                }
                throw new Halt(reason);
            }
            synchronized (lock) {
                table.setTerm(entry.getTerm());
                for (Command.Envelope c : commands) {
                    List<Event> caused = new ArrayList<>(0);
                    replies.add(
                            c == null
                                    ? Reply.Failed.of(ErrorCode.INVALID_ARGUMENT, "the command was damaged in the log")
                                    : table.apply(c, caused::add, changes::add));
                    events.add(caused);
                }
                updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
                tableNow = table.now();
                nextDeadline = table.nextDeadline();
                if (TRACE_APPLIED) {
                    TRACE.info(
                            "applied {} term {} entry {} table {} token {}",
                            entry.getIndex(),
                            entry.getTerm(),
                            crc(data),
                            crc(snapshotBytes()),
                            table.lastToken());
                }
            }
        } catch (Halt halt) {
            throw halt;
        } catch (RuntimeException | Error e) {
            LOG.error("Applying entry {} failed; answering with an error", entry.getIndex(), e);
            synchronized (lock) {
                updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
                tableNow = table.now();
                nextDeadline = table.nextDeadline();
            }
        }
        StateMachineHooks h = hooks;
        if (h != null) {
            try {
                h.applied(new StateMachineHooks.Applied(
                        entry.getIndex(), commands, replies, events, changes, tableNow, nextDeadline));
            } catch (RuntimeException e) {
                LOG.warn("Delivering the events of entry {} failed", entry.getIndex(), e);
            }
        }
        return CompletableFuture.completedFuture(
                Message.valueOf(ByteString.copyFrom(EntryCodec.encodeReplies(replies))));
    }

    /** Answers the {@link TableQuery} the request holds, once Ratis let it through. */
    @Override
    public CompletableFuture<Message> query(Message request) {
        return CompletableFuture.completedFuture(answer(TableQuery.of(request)));
    }

    private Message answer(TableQuery query) {
        if (query instanceof TableQuery.ClusterId) {
            return Message.valueOf(
                    read(ClusterIdentity::inTable).map(java.util.UUID::toString).orElse(""));
        }
        return Message.EMPTY; // the barrier, and a query this build does not know (see TableQuery)
    }

    @Override
    public long takeSnapshot() throws IOException {
        synchronized (lock) {
            TermIndex last = getLastAppliedTermIndex();
            if (last == null || last.getIndex() < 0) {
                return -1;
            }
            File file = storage.getSnapshotFile(last.getTerm(), last.getIndex());
            File tmp = new File(file.getParentFile(), file.getName() + ".tmp");
            try (FileOutputStream fos = new FileOutputStream(tmp);
                    BufferedOutputStream out = new BufferedOutputStream(fos, 1 << 16)) {
                table.writeSnapshot(out);
                out.flush();
                fos.getFD().sync();
            }
            Files.move(tmp.toPath(), file.toPath(), StandardCopyOption.ATOMIC_MOVE);
            var md5 = MD5FileUtil.computeAndSaveMd5ForFile(file);
            storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(file.toPath(), md5), last));
            StateMachineHooks h = hooks;
            if (h != null) {
                h.snapshotTaken(last.getIndex(), file.length());
            }
            return last.getIndex();
        }
    }

    @Override
    public void notifyLeaderReady() {
        StateMachineHooks h = hooks;
        if (h != null) {
            h.leaderReady();
        }
    }

    @Override
    public void notifyLeaderChanged(RaftGroupMemberId member, RaftPeerId newLeader) {
        StateMachineHooks h = hooks;
        if (h == null) {
            return;
        }
        if (!member.getPeerId().equals(newLeader)) {
            h.notLeader();
        }
        h.leaderChanged(newLeader == null ? null : newLeader.toString());
    }

    @Override
    public void notifyNotLeader(java.util.Collection<TransactionContext> pending) {
        StateMachineHooks h = hooks;
        if (h != null) {
            h.notLeader();
        }
    }
}
