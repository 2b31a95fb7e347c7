// Ceiling 445 lines, one idea: the table's public face (apply, the queries other modules read, snapshots),
// each method a contract in javadoc over the parts that keep the rules; the parts and the apply path live apart.
package io.holdfast.core;

import io.holdfast.ErrorCode;
import io.holdfast.LockInfo;
import io.holdfast.WatchEvent;
import io.holdfast.model.ChangePosition;
import io.holdfast.model.Command;
import io.holdfast.model.Command.ExpireSession;
import io.holdfast.model.Command.Invocation;
import io.holdfast.model.Command.Tick;
import io.holdfast.model.KeyPage;
import io.holdfast.model.RegisterValue;
import io.holdfast.model.Reply;
import io.holdfast.model.Reply.Failed;
import io.holdfast.model.SessionPage;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The deterministic lock state machine: sessions, locks (exclusive and shared; reentrancy is the
 * client's {@code LeaseLock} view, not the table's), semaphores, FIFO wait queues with deadlines,
 * fencing tokens, lease timeouts, lock-delay, deadlock detection, admin revoke, and keys (versioned
 * registers, deleted, attached to a session or with a time to live, counted, changed in transactions).
 *
 * <p><b>For maintainers.</b> The table has no I/O, no threads and no clock. Time enters only as the
 * time of each command's {@link Command.Envelope}; the table's clock is the largest time seen so far, so it never goes
 * backwards even if a new leader's clock is behind. Deadlines pass only when a command says so:
 * the leader proposes a {@link Tick} when {@link #nextDeadline()} is due and an {@link
 * ExpireSession} when a session's heartbeats stop. Every replica that applies the same commands in
 * the same order reaches the same state, replies and events; {@link #apply} never throws for a
 * command, whatever its content: bad input becomes a {@link Failed} reply and changes nothing.
 *
 * <p>Its parts, one rule each: {@link Sessions} (open sessions), {@link Admission} (access rules,
 * quotas, refusal counts), {@link Queues} (locks, queues, the clock and tokens; the one place that
 * grants) driven by {@link Acquisitions} and {@link Releases}, {@link Registers} with {@link
 * Transactions} (keys: a session's go in the step that ends it, a timed key at a Tick), the read-only
 * {@link TableViews}; {@link TableParts} wires them together. {@link Dispatch} applies each
 * command: it moves the clock, routes the command to its part (a client's through {@link
 * ReplyMemory}) and keeps {@link #apply} from throwing. This class is the face other modules use.
 *
 * <p>Fencing tokens come from one counter for the whole table: every grant takes the next value,
 * so tokens grow across all names, leader changes and restarts (the counter is in the snapshot).
 *
 * <p>Exactly-once: every client command carries an {@link Invocation}; the table remembers the
 * reply of each invocation until the client acknowledges it, and answers a retry from that memory
 * (all but refusals of malformed input: those change nothing, and a retry is refused the same way).
 * A queued acquire's remembered reply becomes its outcome, so a client that lost the grant event
 * learns it by retrying the acquire ({@link ReplyMemory}).
 *
 * <p>Deadlock detection: a new lock wait that would close a cycle of owners (session, owner id)
 * waiting for one another is refused with {@link ErrorCode#DEADLOCK}. An owner waits for the
 * holders of its lock whose mode conflicts with its own and for every waiter ahead of it; semaphore
 * waits are left out, as a cycle through one is not necessarily a deadlock ({@link WaitForGraph}).
 *
 * <p>Planted bugs: a table made with {@link #LockTable(Set)} may carry {@link PlantedBug}s, for
 * verification only; each is an {@code if} marked "PLANTED BUG" at the place it breaks. The
 * table stays deterministic given the set. The default table has none.
 *
 * <p>Not thread-safe, reads included (a session lookup keeps what it parsed): one thread at a time
 * applies commands and reads (the Raft apply thread, or callers that hold one lock around both).
 */
public final class LockTable {
    /** The most lock names a deadlock reply lists. */
    static final int MAX_CYCLE_NAMES = WaitForGraph.MAX_CYCLE_NAMES;

    private final TableParts parts;

    /** A correct table: no planted bugs. */
    public LockTable() {
        this(Set.of());
    }

    /**
     * A table with planted bugs, <b>for verification only</b>: it breaks the guarantees described
     * above in the ways {@link PlantedBug} lists. Every replica must be given the same set.
     */
    public LockTable(Set<PlantedBug> bugs) {
        this.parts = new TableParts(bugs);
    }

    /** The planted bugs of this table; empty for a correct table. */
    public Set<PlantedBug> plantedBugs() {
        return parts.bugs;
    }

    /**
     * The Raft term of the log entries applied next (the same on every replica for the same
     * entry). A correct table ignores it; only the planted bug {@link PlantedBug#TOKEN_FROM_TERM}
     * uses it. It is not part of the snapshot.
     */
    public void setTerm(long term) {
        parts.queues.setTerm(term);
    }

    /**
     * Applies one command at {@code time}, without an identity.
     *
     * @param time the cluster time the proposer stamped, in milliseconds; 0 leaves the clock
     * @param command the command, in log order
     * @param events receives the events the command causes, in order
     * @return the reply; never null, never thrown
     */
    public Reply apply(long time, Command command, EventSink events) {
        if (command == null) {
            return Failed.of(ErrorCode.INVALID_ARGUMENT, "command must not be null");
        }
        return apply(Command.Envelope.of(time, command), events);
    }

    /**
     * Applies one command in its envelope: its clock moves to the envelope's time (never back),
     * and the command is applied on behalf of the identity that sent it. A session belongs to the
     * identity that opened it: a client command naming another identity's session is refused with
     * {@link ErrorCode#PERMISSION_DENIED}, whether access rules are on or not. While rules are on
     * ({@link #accessRules()}), each command also needs its verb on its name.
     *
     * @param envelope the command, its time and its sender's identity (null: unauthenticated, or
     *     the members' own commands)
     * @param events receives the events the command causes, in order
     * @return the reply; never null, never thrown
     */
    public Reply apply(Command.Envelope envelope, EventSink events) {
        return apply(envelope, events, null);
    }

    /**
     * {@link #apply(Command.Envelope, EventSink)}, telling {@code changes} of every change it makes
     * to holders, queues and registers, in the order it makes them (what watches report): every
     * replica tells the same changes for the same log. Null tells nobody.
     */
    public Reply apply(Command.Envelope envelope, EventSink events, java.util.function.Consumer<WatchEvent> changes) {
        return Dispatch.apply(parts, envelope, events, changes);
    }

    // ---------------------------------------------------------------------------------- access

    /** The access rules, or null while access control is off. */
    public AccessRules accessRules() {
        return parts.admission.rules();
    }

    /** The quotas in force: the access rules' while they are on, else {@link #openQuotas()}. */
    public Quotas quotas() {
        return parts.admission.quotas();
    }

    /** The quotas while access control is off ({@link Command.SetQuotas}; the defaults until one). */
    public Quotas openQuotas() {
        return parts.admission.openQuotas();
    }

    /**
     * Whether this bearer token id ({@code jti}) is on the deny list ({@link Command.RevokeToken}):
     * the node refuses the token while it is.
     */
    public boolean isTokenRevoked(String jti) {
        return parts.revokedTokens.contains(jti);
    }

    /**
     * Whether {@code identity} may read {@code name}: always while access rules are off, else as
     * the rules say. For the reads that do not go through the log (describe, list, token checks,
     * register reads), which the node answers from this table.
     */
    public boolean mayRead(String identity, String name) {
        return parts.admission.mayRead(identity, name);
    }

    /**
     * Whether {@code identity} may use the session (keep it alive, receive its events): the
     * session exists and was opened by the same identity.
     */
    public boolean ownsSession(String identity, String sessionId) {
        return parts.sessions.owns(identity, sessionId);
    }

    /** The identity that opened a session (null: none), or empty if there is no such session. */
    public Optional<String> sessionIdentity(String sessionId) {
        return parts.sessions.identityOf(sessionId);
    }

    /**
     * Refusals since this table was made, by quota name, plus {@code permission-denied}. These
     * counts belong to this replica (they are not replicated, and start at 0 after a restart).
     */
    public Map<String, Long> refusals() {
        return parts.admission.refusals();
    }

    // ---------------------------------------------------------------------------------- queries

    /** The table's clock: the largest command time applied so far. */
    public long now() {
        return parts.queues.now();
    }

    /** The last fencing token granted (0 before the first grant). */
    public long lastToken() {
        return parts.queues.lastToken();
    }

    /**
     * The earliest cluster time at which a {@link Tick} has something to do, or {@link
     * Long#MAX_VALUE} if nothing is pending.
     */
    public long nextDeadline() {
        return Math.min(parts.queues.nextDeadline(), parts.registers.nextDeadline());
    }

    /** Whether the session exists. */
    public boolean hasSession(String sessionId) {
        return parts.sessions.contains(sessionId);
    }

    /** The session's TTL in milliseconds, or -1 if it does not exist. */
    public long sessionTtlMillis(String sessionId) {
        return parts.sessions.ttlMillis(sessionId);
    }

    /**
     * A request number above every one of the session's that this table has applied and still
     * remembers or has seen acknowledged (1 for an unknown session): where a member that numbers a
     * session's requests itself starts, so that it never reuses a number another member gave.
     */
    public long seqAboveKnown(String sessionId) {
        return parts.sessions.seqAboveKnown(sessionId);
    }

    /** Every session's id and TTL (ms), in no set order: what a new leader tracks, with no sorted copy. */
    public void forEachSessionTtl(java.util.function.ObjLongConsumer<String> action) {
        parts.sessions.forEachTtl(action);
    }

    /** The ids of all sessions, sorted. */
    public List<String> sessionIds() {
        return parts.sessions.ids();
    }

    /** What the session holds and waits for now ({@link SessionState}); empty if it does not exist. */
    public Optional<SessionState> sessionState(String sessionId) {
        return SessionState.of(parts.sessions.get(sessionId));
    }

    public int sessionCount() {
        return parts.sessions.size();
    }

    /** Locks and semaphores that are held, waited for or lock-delayed. */
    public int resourceCount() {
        return parts.queues.size();
    }

    /** Whether {@code token} is the token of a current grant of {@code name}. */
    public boolean isCurrentHolder(String name, long token) {
        return parts.queues.isCurrentHolder(name, token);
    }

    /**
     * The protocol version each member last reported ({@link Command.ReportVersion}), sorted by
     * member id; members that never reported are absent. Reports under a name with a colon, which
     * no member id holds, are not members' versions and are left out: the server records its
     * cluster's identity so ({@link #versionReports()}).
     */
    public Map<String, Integer> memberVersions() {
        Map<String, Integer> members = new java.util.TreeMap<>(parts.memberVersions.all());
        members.keySet().removeIf(name -> name.indexOf(':') >= 0);
        return members;
    }

    /**
     * Every report the table holds, those under reserved names (with a colon) included, sorted by
     * name: what a snapshot keeps.
     */
    public Map<String, Integer> versionReports() {
        return parts.memberVersions.all();
    }

    /**
     * The protocol version a cluster of these members can apply: the lowest any of them reported,
     * a member that has not reported counting as 1, but never below the {@link #versionFloor()
     * floor} (see {@link Vocabulary}).
     */
    public int clusterVersion(java.util.Collection<String> members) {
        return parts.memberVersions.clusterVersion(members);
    }

    /** The name under which the leader reports the cluster's version, a floor that only rises. */
    public static final String VERSION_FLOOR = MemberVersions.FLOOR;

    /** The cluster's version as last recorded ({@link #VERSION_FLOOR}); 0 while none is. */
    public int versionFloor() {
        return parts.memberVersions.floor();
    }

    /** The register's value, or empty if it is absent (never written, or deleted). */
    public Optional<RegisterValue> register(String key) {
        return parts.registers.get(key);
    }

    /** The key with its session and time to live, or empty if it is absent. */
    public Optional<KeyPage.Entry> key(String key) {
        return parts.registers.entry(key);
    }

    /**
     * One page of keys that start with {@code prefix}, come after {@code after} (null: from the
     * first) and pass {@code visible}, in byte order, at most {@code limit} (1 to {@link
     * Limits#MAX_KEY_PAGE}): a query, not a log entry. The caller reads it under the lock it applies
     * under and passes where the table stands ({@code ChangeLog#appended()}), the page's position.
     */
    public KeyPage keys(
            String prefix,
            String after,
            int limit,
            java.util.function.Predicate<String> visible,
            ChangePosition readAt) {
        return parts.registers.page(prefix, after, limit, visible, readAt);
    }

    /** One lock or semaphore as operators see it, timed by {@code nowMillis} (or the table's clock). */
    public Optional<LockInfo> describe(String name, long nowMillis) {
        return TableViews.describe(parts.queues.map(), name, Math.max(now(), nowMillis));
    }

    /** Locks and semaphores whose names start with {@code prefix}, sorted by name, at most {@code limit}. */
    public List<LockInfo> list(String prefix, int limit, long nowMillis) {
        return list(prefix, null, limit, nowMillis, name -> true);
    }

    /**
     * One page of locks and semaphores: names that start with {@code prefix}, come after {@code
     * after} (null: from the first) and pass {@code visible}, sorted by name, at most {@code limit}.
     * The next page starts after the last name of this one.
     */
    public List<LockInfo> list(
            String prefix, String after, int limit, long nowMillis, java.util.function.Predicate<String> visible) {
        return TableViews.list(parts.queues.map(), prefix, after, limit, Math.max(now(), nowMillis), visible);
    }

    /**
     * One page of sessions: ids after {@code after} (null: from the first) that {@code visible}
     * accepts, sorted by id, at most {@code limit}; without the TTL left (only the leader's tracker
     * knows it).
     */
    public List<SessionPage.Session> sessions(
            String after, int limit, long nowMillis, java.util.function.Predicate<SessionPage.Session> visible) {
        return TableViews.sessions(parts.sessions.all(), after, limit, Math.max(now(), nowMillis), visible);
    }

    /**
     * Whether {@code identity} may see every session and revoke anything: always while access
     * rules are off, else only an admin.
     */
    public boolean isAdmin(String identity) {
        return parts.admission.isAdmin(identity);
    }

    /**
     * Sizes of the table, for metrics.
     *
     * @param holds grants held, over all locks and semaphores
     * @param waiters requests queued, over all locks and semaphores
     * @param longestQueue the most requests queued on one lock or semaphore
     */
    public record Stats(
            int sessions,
            int resources,
            long holds,
            long waiters,
            int longestQueue,
            int registers,
            long registerBytes,
            long lastToken) {}

    /** The table's sizes now; walks every lock (linear in their number). */
    public Stats stats() {
        return TableViews.stats(parts.sessions.size(), parts.queues.map(), parts.registers, parts.queues.lastToken());
    }

    // ---------------------------------------------------------------------------------- snapshots

    /** Writes the whole table in the versioned snapshot format; see {@link SnapshotCodec}. */
    public void writeSnapshot(OutputStream out) throws IOException {
        SnapshotCodec.write(this, out);
    }

    /** As {@link #writeSnapshot(OutputStream)}, streamed: no copy of the snapshot in memory ({@link SnapshotOutput}). */
    public void writeSnapshot(SnapshotOutput out) throws IOException {
        SnapshotCodec.write(this, out);
    }

    /**
     * Reads a table written by {@link #writeSnapshot}. The snapshot is checked completely before
     * the table is returned; a corrupt, truncated or unknown snapshot is refused.
     *
     * @throws SnapshotFormatException if the snapshot cannot be read
     */
    public static LockTable readSnapshot(InputStream in) throws IOException {
        return SnapshotCodec.read(in, Set.of());
    }

    /**
     * Reads a snapshot into a table with planted bugs (verification only); see {@link
     * #readSnapshot(InputStream)} and {@link #LockTable(Set)}.
     *
     * @throws SnapshotFormatException if the snapshot cannot be read
     */
    public static LockTable readSnapshot(InputStream in, Set<PlantedBug> bugs) throws IOException {
        return SnapshotCodec.read(in, bugs);
    }

    /**
     * The table a cluster restored from a backup of this one starts with (see {@code holdfast
     * restore}). It keeps what is data: the registers with their versions, the access rules, the
     * quotas while access control is off, the deny list of tokens, the cluster clock. It drops what
     * belongs to clients of the old cluster: every session, and with them every hold and every wait, so that no lock is held by a client that cannot know the
     * cluster it holds it in; and the protocol versions the old members reported (the new
     * cluster's members report their own), but not the cluster's version ({@link #versionFloor()}).
     * The next fencing token it grants is above both this table's last token and {@code tokenFloor}: the restorer chooses the floor above whatever the old cluster
     * may have granted after the backup was taken.
     *
     * @param tokenFloor the restored table's last token is at least this
     */
    public LockTable restored(long tokenFloor) {
        if (tokenFloor < 0) {
            throw new IllegalArgumentException("token floor must be 0 or more, not " + tokenFloor);
        }
        LockTable fresh = new LockTable(parts.bugs);
        fresh.parts.keepForRestore(parts, Math.max(lastToken(), tokenFloor), versionFloor());
        return fresh;
    }

    /** The table's parts, for the snapshot codec to write and fill. */
    TableParts parts() {
        return parts;
    }
}
