// Ceiling 455 lines, one idea: the Ratis adapter (decode, apply, encode; snapshots; the applied index and
// who waits for it), which Ratis requires to be one StateMachine class (440 until throwaway()).
package io.holdfast.server.raft;

import io.holdfast.ErrorCode;
import io.holdfast.Ticker;
import io.holdfast.core.LockTable;
import io.holdfast.core.PlantedBug;
import io.holdfast.core.Vocabulary;
import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.Reply;
import io.holdfast.server.config.CommitWakeups;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
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
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.LifeCycle;
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
public final class LockStateMachine extends BaseStateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(LockStateMachine.class);
    /**
     * Whether the leader checks entries for unknown command kinds before logging them; off only
     * in tests, to play a newer build's leader that logs a command this build cannot read.
     */
    private volatile boolean checkKinds = true;

    private volatile SimpleStateMachineStorage storage = new SnapshotStorage();
    private final Object lock = new Object();
    private final Set<PlantedBug> bugs;
    /** Whether applies are traced for the verifier: false only for a {@link #throwaway()}. */
    private final boolean traced;
    /** What this build applies of the log; see {@link Vocabulary}. */
    private final Vocabulary vocabulary;

    private volatile LockTable table;
    private volatile StateMachineHooks hooks;
    /** Who waits for this replica to apply an index; see {@link #appliedWaits}. */
    private final AppliedWaits appliedWaits = new AppliedWaits();
    /** The leader's log appenders, woken after each entry it applies; see {@link #commitWakeups}. */
    private final CommitWakeups commitWakeups = new CommitWakeups();

    private volatile Ticker ticker = Ticker.system();
    /** What the leader may log now; see {@link #setAdmission}. */
    private volatile CommandAdmission admission;

    /** A throwaway group's state machine (the leader rehearsal's): never traced as the node's replica. */
    public static LockStateMachine throwaway() {
        return new LockStateMachine(Set.of(), Vocabulary.CURRENT, false);
    }

    /** A state machine over a correct table. */
    public LockStateMachine() {
        this(Set.of());
    }

    /** A state machine whose table has these planted bugs (verification only); see {@link PlantedBug}. */
    public LockStateMachine(Set<PlantedBug> bugs) {
        this(bugs, Vocabulary.CURRENT);
    }

    /**
     * A state machine that applies what {@code vocabulary} knows; tests give it another one to play
     * an older or newer build (see {@link Vocabulary}).
     */
    public LockStateMachine(Set<PlantedBug> bugs, Vocabulary vocabulary) {
        this(bugs, vocabulary, true);
    }

    private LockStateMachine(Set<PlantedBug> bugs, Vocabulary vocabulary, boolean traced) {
        this.traced = traced;
        this.bugs = Set.copyOf(bugs);
        this.vocabulary = vocabulary;
        this.admission = type -> vocabulary.knows(type) ? null : "is of a kind this build does not know";
        this.table = new LockTable(this.bugs);
    }

    /** What this build applies of the log; see {@link Vocabulary}. */
    public Vocabulary vocabulary() {
        return vocabulary;
    }

    /**
     * Turns the leader's check for unknown command kinds off ({@code false}): only tests do, to play
     * a newer build's leader that logs a command this build cannot read.
     */
    public void checkKinds(boolean on) {
        this.checkKinds = on;
    }

    /**
     * Sets what the leader may log from now on ({@link #startTransaction}); until it is set, only
     * commands of a kind this build does not know are refused. The node sets it before its Raft
     * server starts.
     */
    public void setAdmission(CommandAdmission admission) {
        this.admission = admission;
    }

    public void setHooks(StateMachineHooks hooks) {
        this.hooks = hooks;
    }

    /** Waits for this replica to apply an index (a forwarded write's, a read index). */
    public AppliedWaits appliedWaits() {
        return appliedWaits;
    }

    /**
     * The leader's log appenders, for its Raft server's parameters: each entry this replica
     * applies was committed, and at the leader the appenders then carry the new commit index to
     * the followers at once (a follower serving a client waits for it).
     */
    public CommitWakeups commitWakeups() {
        return commitWakeups;
    }

    @Override
    protected boolean updateLastAppliedTermIndex(TermIndex applied) {
        boolean moved = super.updateLastAppliedTermIndex(applied);
        appliedWaits.applied(applied.getIndex()); // also Ratis's own entries (notifyTermIndexUpdated)
        commitWakeups.committed(applied.getIndex());
        return moved;
    }

    @Override
    protected void setLastAppliedTermIndex(TermIndex applied) {
        super.setLastAppliedTermIndex(applied);
        if (appliedWaits != null) { // null while the base class's constructor sets the first index
            appliedWaits.applied(applied.getIndex()); // a snapshot loaded
        }
    }

    /** The clock that times a snapshot's write and load; the JVM's monotonic clock until set. */
    public void setTicker(Ticker ticker) {
        this.ticker = ticker;
    }

    /** Runs {@code read} on the table under the apply lock. */
    public <T> T read(Function<LockTable, T> read) {
        return readAt((t, at) -> read.apply(t));
    }

    /** {@link #read}, given the position right after the last entry applied (where a key page stands). */
    public <T> T readAt(java.util.function.BiFunction<LockTable, io.holdfast.model.ChangePosition, T> read) {
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
    public String digest() {
        synchronized (lock) {
            return getLastAppliedTermIndex().getIndex() + ":" + TableDigest.crc(TableDigest.bytes(table));
        }
    }

    /** The table in its snapshot form, taken under the apply lock (to compare replicas). */
    public byte[] tableBytes() {
        synchronized (lock) {
            return TableDigest.bytes(table);
        }
    }

    /**
     * Runs {@code read} on the table and the last entry applied (null before any), taken together
     * under the apply lock: what a backup copies. Nothing is applied while it runs, so keep it short
     * of anything but the copy.
     */
    public <T> T readWithLast(TableRead<T> read) throws IOException {
        synchronized (lock) {
            return read.read(table, getLastAppliedTermIndex());
        }
    }

    /** A read of the table and the last entry applied; see {@link #readWithLast}. */
    @FunctionalInterface
    public interface TableRead<T> {
        T read(LockTable table, TermIndex last) throws IOException;
    }

    /**
     * Ratis calls this once per division. A second call comes only when {@code JoinRescue} started
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
                storage = new SnapshotStorage();
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
        LockTable loaded = SnapshotFiles.read(snapshot, bugs, ticker);
        synchronized (lock) {
            table = loaded;
            setLastAppliedTermIndex(snapshot.getTermIndex());
            AppliedTrace.loaded(traced, snapshot.getIndex(), snapshot.getTerm(), table);
        }
        StateMachineHooks h = hooks;
        if (h != null) {
            h.tableLoaded(snapshot.getIndex());
        }
    }

    @Override
    public SimpleStateMachineStorage getStateMachineStorage() {
        return storage;
    }

    /**
     * On the leader, before an entry is logged: an entry with a command of a kind this build does
     * not know is refused, so that a client of the Raft port cannot log what no replica can apply
     * (every replica would then stop; see {@link #applyTransaction}); so is one with a command
     * newer than the cluster's version ({@link CommandAdmission}), which a member of an older build could
     * not apply. The leader's own service checks the second before proposing, with a typed error;
     * this is what holds for every client of the Raft port.
     */
    @Override
    public TransactionContext startTransaction(org.apache.ratis.protocol.RaftClientRequest request) throws IOException {
        TransactionContext trx = super.startTransaction(request);
        if (!checkKinds) {
            return trx;
        }
        String refused = EntryCodec.refusal(request.getMessage().getContent().toByteArray(), admission::refusal);
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
                AppliedTrace.applied(traced, entry.getIndex(), entry.getTerm(), data, table);
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
        return TableQuery.of(request).answer(this::read, hooks);
    }

    @Override
    public long takeSnapshot() throws IOException {
        synchronized (lock) {
            TermIndex last = getLastAppliedTermIndex();
            if (last == null || last.getIndex() < 0) {
                return -1;
            }
            SnapshotFiles.Written written = SnapshotFiles.write(storage, last, table, ticker);
            StateMachineHooks h = hooks;
            if (h != null) {
                h.snapshotTaken(last.getIndex(), written.bytes(), written.nanos());
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
