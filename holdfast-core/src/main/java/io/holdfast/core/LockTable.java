// Ceiling 760 lines, one idea: the table's public face (apply with exactly-once replies, queries,
// snapshots) over the parts that hold its rules; most of its length is the contract other modules use.
package io.holdfast.core;

import io.holdfast.ErrorCode;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockInfo;
import io.holdfast.Names;
import io.holdfast.WatchEvent;
import io.holdfast.model.ChangePosition;
import io.holdfast.model.Command;
import io.holdfast.model.Command.Acquire;
import io.holdfast.model.Command.AcquireAll;
import io.holdfast.model.Command.CancelWait;
import io.holdfast.model.Command.ClientCommand;
import io.holdfast.model.Command.CloseSession;
import io.holdfast.model.Command.ExpireSession;
import io.holdfast.model.Command.Invocation;
import io.holdfast.model.Command.KeepAlive;
import io.holdfast.model.Command.OpenSession;
import io.holdfast.model.Command.RegisterSet;
import io.holdfast.model.Command.Release;
import io.holdfast.model.Command.Renew;
import io.holdfast.model.Command.Revoke;
import io.holdfast.model.Command.Tick;
import io.holdfast.model.KeyPage;
import io.holdfast.model.RegisterValue;
import io.holdfast.model.Reply;
import io.holdfast.model.Reply.Failed;
import io.holdfast.model.SessionPage;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Collections;
import java.util.EnumSet;
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
 * {@link TableViews}; the table routes each command to one of them and keeps exactly-once replies.
 *
 * <p>Fencing tokens come from one counter for the whole table: every grant takes the next value,
 * so tokens grow across all names, leader changes and restarts (the counter is in the snapshot).
 *
 * <p>Exactly-once: every client command carries an {@link Invocation}; the table remembers the
 * reply of each invocation until the client acknowledges it, and answers a retry from that memory
 * (all but refusals of malformed input: those change nothing, and a retry is refused the same way).
 * The remembered reply of a queued acquire is updated when the waiter is granted or times out, so
 * a client that lost the grant event learns the outcome by retrying the acquire.
 *
 * <p>Deadlock detection: owners (session, owner id) that hold or wait for locks form a wait-for
 * graph; an owner waits for the holders of the lock it queued for whose mode conflicts with its
 * own (a reader does not wait for other readers, say while a lock-delay holds it back) and for
 * every waiter ahead of it (the fair queue grants those first). A new wait that would close a
 * cycle is refused with {@link ErrorCode#DEADLOCK}. Semaphore waits are left out of the graph: any
 * of several holders can free a permit, so a cycle through a semaphore is not necessarily a
 * deadlock.
 *
 * <p>Planted bugs: a table made with {@link #LockTable(Set)} may carry {@link PlantedBug}s, for
 * verification only; each is an {@code if} marked "PLANTED BUG" at the place it breaks. The
 * table stays deterministic given the set. The default table has none.
 *
 * <p>Not thread-safe: one thread applies commands (the Raft apply thread, or a caller that holds a
 * lock around it).
 */
public final class LockTable {
    /** The most lock names a deadlock reply lists. */
    static final int MAX_CYCLE_NAMES = WaitForGraph.MAX_CYCLE_NAMES;

    private final Sessions sessions;
    private final Registers registers;
    private final Transactions transactions;
    private final Set<PlantedBug> bugs;
    private final Admission admission = new Admission();
    private final Queues queues;
    private final Acquisitions acquisitions;
    private final Releases releases;

    private final MemberVersions memberVersions = new MemberVersions();
    private final RevokedTokens revokedTokens = new RevokedTokens();

    /** A correct table: no planted bugs. */
    public LockTable() {
        this(Set.of());
    }

    /**
     * A table with planted bugs, <b>for verification only</b>: it breaks the guarantees described
     * above in the ways {@link PlantedBug} lists. Every replica must be given the same set.
     */
    public LockTable(Set<PlantedBug> bugs) {
        this.bugs = bugs.isEmpty() ? Collections.emptySet() : Collections.unmodifiableSet(EnumSet.copyOf(bugs));
        this.sessions = new Sessions(admission, this::stateEntries);
        this.queues = new Queues(this.bugs);
        this.acquisitions = new Acquisitions(queues, admission, this::stateEntries);
        this.releases = new Releases(queues, this.bugs);
        this.registers = new Registers(queues, queues::holderOf, admission, this::stateEntries);
        this.transactions = new Transactions(registers, queues, sessions::contains, this.bugs);
    }

    /** The planted bugs of this table; empty for a correct table. */
    public Set<PlantedBug> plantedBugs() {
        return bugs;
    }

    /**
     * The Raft term of the log entries applied next (the same on every replica for the same
     * entry). A correct table ignores it; only the planted bug {@link PlantedBug#TOKEN_FROM_TERM}
     * uses it. It is not part of the snapshot.
     */
    public void setTerm(long term) {
        queues.setTerm(term);
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
        queues.changes = changes;
        try {
            return applyEnvelope(envelope, events);
        } finally {
            queues.changes = null;
        }
    }

    private Reply applyEnvelope(Command.Envelope envelope, EventSink events) {
        if (envelope == null) {
            return Failed.of(ErrorCode.INVALID_ARGUMENT, "command must not be null");
        }
        Command command = envelope.command();
        String identity = envelope.identity();
        try {
            queues.advance(envelope.time());
            revokedTokens.expire(queues.now());
            if (identity != null && CommandKinds.membersOnly(command)) {
                // The members' own commands carry no identity; one that does was sent by someone else.
                return admission.refuse(command.getClass().getSimpleName() + " is proposed by the leader only");
            }
            return command.accept(new Dispatch(identity, events));
        } catch (InvalidArgumentException e) {
            return Failed.of(ErrorCode.INVALID_ARGUMENT, e.getMessage());
        } catch (RuntimeException e) {
            // A bug, not bad input. Every replica hits it the same way on the same entry, so
            // answering it keeps them equal; throwing would stop every replica at once.
            return Failed.of(
                    ErrorCode.INVALID_ARGUMENT,
                    "internal error applying " + command.getClass().getSimpleName() + ": " + e);
        }
    }

    private Reply applyClient(ClientCommand command, String identity, EventSink events) {
        Invocation inv = command.invocation();
        if (inv == null) {
            return Failed.of(ErrorCode.INVALID_ARGUMENT, "client commands need an invocation id");
        }
        Session session = sessions.get(inv.sessionId());
        if (session == null) {
            return Sessions.unknown(inv.sessionId());
        }
        if (!java.util.Objects.equals(session.identity, identity)) {
            // Checked before the reply memory: another identity learns nothing from it.
            return admission.refuse(
                    "session " + inv.sessionId() + " belongs to another identity than " + Admission.describe(identity));
        }
        if (inv.seq() <= 0 || inv.ackedBelow() < 0 || inv.ackedBelow() > inv.seq()) {
            return Failed.of(
                    ErrorCode.INVALID_ARGUMENT,
                    "invocation needs 0 < seq and 0 <= ackedBelow <= seq, not " + inv.seq() + "/" + inv.ackedBelow());
        }
        session.acknowledge(inv.ackedBelow());
        if (inv.seq() < session.ackedBelow) {
            return Failed.of(
                    ErrorCode.INVALID_ARGUMENT,
                    "request " + inv.seq() + " was already acknowledged by its client; it cannot be answered again");
        }
        Reply cached = session.cachedReply(inv.seq());
        // PLANTED BUG (verification only): retry-applied-twice: a retry is not answered from memory.
        if (cached != null && bugs.contains(PlantedBug.RETRY_APPLIED_TWICE)) {
            cached = null;
        }
        if (cached != null) {
            return cached;
        }
        Reply reply;
        try {
            reply = applyFresh(command, session, events);
        } catch (InvalidArgumentException e) {
            // Malformed input is refused before anything changes, and a retry is refused the same
            // way, so there is nothing to remember: the table stays exactly as it was.
            return Failed.of(ErrorCode.INVALID_ARGUMENT, e.getMessage());
        }
        if (sessions.get(session.id) == session) {
            session.remember(inv.seq(), reply);
        }
        return reply;
    }

    private Reply applyFresh(ClientCommand command, Session session, EventSink events) {
        Reply refused = admission.checkPermission(command, session.identity);
        if (refused != null) {
            return refused;
        }
        return command.accept(new Fresh(session, events));
    }

    /** Where each command goes, for a sender's identity; client commands through their session's memory. */
    private final class Dispatch implements Command.Visitor<Reply> {
        private final String identity;
        private final EventSink events;

        Dispatch(String identity, EventSink events) {
            this.identity = identity;
            this.events = events;
        }

        @Override
        public Reply closeSession(CloseSession c) {
            return applyClient(c, identity, events);
        }

        @Override
        public Reply acquire(Acquire c) {
            return applyClient(c, identity, events);
        }

        @Override
        public Reply acquireAll(AcquireAll c) {
            return applyClient(c, identity, events);
        }

        @Override
        public Reply release(Release c) {
            return applyClient(c, identity, events);
        }

        @Override
        public Reply renew(Renew c) {
            return applyClient(c, identity, events);
        }

        @Override
        public Reply cancelWait(CancelWait c) {
            return applyClient(c, identity, events);
        }

        @Override
        public Reply registerSet(RegisterSet c) {
            return applyClient(c, identity, events);
        }

        @Override
        public Reply keys(Command.KeyCommand c) {
            return applyClient(c, identity, events);
        }

        @Override
        public Reply openSession(OpenSession c) {
            return sessions.open(c, identity, queues.now(), versionFloor());
        }

        @Override
        public Reply revoke(Revoke c) {
            Names.check(c.name());
            Failed refused = admission.checkRevoke(identity, c.name());
            return refused != null ? refused : releases.revoke(c, events);
        }

        @Override
        public Reply endSession(Command.EndSession c) {
            Session s = sessions.get(c.sessionId());
            boolean own = s != null && identity != null && identity.equals(s.identity);
            if (!own && !admission.isAdmin(identity)) {
                // The same answer whether or not the session exists: ids are not probed this way.
                return admission.denied(identity, "end", "session " + c.sessionId());
            }
            if (s == null) {
                return Sessions.unknown(c.sessionId());
            }
            int holds = s.holdCount;
            LockTable.this.endSession(s, true, events);
            return new Reply.Ok(holds);
        }

        @Override
        public Reply setAccessRules(Command.SetAccessRules c) {
            return admission.setAccessRules(c, identity);
        }

        @Override
        public Reply revokeToken(Command.RevokeToken c) {
            return admission.isAdmin(identity)
                    ? revokedTokens.revoke(c, queues.now())
                    : admission.denied(identity, "revoke", "token " + c.jti());
        }

        @Override
        public Reply reportVersion(Command.ReportVersion c) {
            memberVersions.report(c.member(), c.version());
            return Reply.Ok.INSTANCE;
        }

        @Override
        public Reply tick(Tick c) {
            releases.tick(events);
            registers.expire(queues.now());
            return Reply.Ok.INSTANCE;
        }

        @Override
        public Reply keepAlive(KeepAlive c) {
            return sessions.contains(c.sessionId()) ? Reply.Ok.INSTANCE : Sessions.unknown(c.sessionId());
        }

        @Override
        public Reply expireSession(ExpireSession c) {
            Session s = sessions.get(c.sessionId());
            if (s == null) {
                return new Reply.Ok(0);
            }
            LockTable.this.endSession(s, true, events);
            return new Reply.Ok(1);
        }
    }

    /** A client command that passed its session's memory and the access rules: applied. */
    private final class Fresh implements Command.ClientVisitor<Reply> {
        private final Session session;
        private final EventSink events;

        Fresh(Session session, EventSink events) {
            this.session = session;
            this.events = events;
        }

        @Override
        public Reply acquire(Acquire c) {
            return acquisitions.acquire(c, session);
        }

        @Override
        public Reply acquireAll(AcquireAll c) {
            return acquisitions.acquireAll(c, session);
        }

        @Override
        public Reply release(Release c) {
            return releases.release(c, session, events);
        }

        @Override
        public Reply renew(Renew c) {
            return releases.renew(c, session);
        }

        @Override
        public Reply cancelWait(CancelWait c) {
            return releases.cancelWait(c, session, events);
        }

        @Override
        public Reply registerSet(RegisterSet c) {
            return registers.set(c);
        }

        @Override
        public Reply keys(Command.KeyCommand c) {
            return transactions.apply(c, session.id);
        }

        @Override
        public Reply closeSession(CloseSession c) {
            endSession(session, false, events);
            return Reply.Ok.INSTANCE;
        }
    }

    /** Sessions, locks and registers together, for the state-entries quota. */
    private int stateEntries() {
        return sessions.size() + queues.size() + registers.size();
    }

    /** Ends a session: deletes its keys, releases its holds, cancels its waits, grants what that frees. */
    private void endSession(Session s, boolean expired, EventSink events) {
        // PLANTED BUG (verification only): grant-after-expiry: an expired session that waits stays
        // in the table with its waits queued (so that snapshots can still name it); they can be
        // granted later, though its client was told that the session expired.
        boolean keepWaits = expired && s.waitsHead != null && bugs.contains(PlantedBug.GRANT_AFTER_EXPIRY);
        if (!keepWaits) {
            sessions.remove(s);
        }
        registers.sessionEnded(s.id, expired ? WatchEvent.Cause.SESSION_EXPIRED : WatchEvent.Cause.SESSION_CLOSED);
        releases.endSession(s, expired, keepWaits, events);
    }

    // ---------------------------------------------------------------------------------- access

    /** The access rules, or null while access control is off. */
    public AccessRules accessRules() {
        return admission.rules();
    }

    /**
     * Whether this bearer token id ({@code jti}) is on the deny list ({@link Command.RevokeToken}):
     * the node refuses the token while it is.
     */
    public boolean isTokenRevoked(String jti) {
        return revokedTokens.contains(jti);
    }

    /**
     * Whether {@code identity} may read {@code name}: always while access rules are off, else as
     * the rules say. For the reads that do not go through the log (describe, list, token checks,
     * register reads), which the node answers from this table.
     */
    public boolean mayRead(String identity, String name) {
        return admission.mayRead(identity, name);
    }

    /**
     * Whether {@code identity} may use the session (keep it alive, receive its events): the
     * session exists and was opened by the same identity.
     */
    public boolean ownsSession(String identity, String sessionId) {
        return sessions.owns(identity, sessionId);
    }

    /** The identity that opened a session (null: none), or empty if there is no such session. */
    public Optional<String> sessionIdentity(String sessionId) {
        return sessions.identityOf(sessionId);
    }

    /**
     * Refusals since this table was made, by quota name, plus {@code permission-denied}. These
     * counts belong to this replica (they are not replicated, and start at 0 after a restart).
     */
    public Map<String, Long> refusals() {
        return admission.refusals();
    }

    // ---------------------------------------------------------------------------------- queries

    /** The table's clock: the largest command time applied so far. */
    public long now() {
        return queues.now();
    }

    /** The last fencing token granted (0 before the first grant). */
    public long lastToken() {
        return queues.lastToken();
    }

    /**
     * The earliest cluster time at which a {@link Tick} has something to do, or {@link
     * Long#MAX_VALUE} if nothing is pending.
     */
    public long nextDeadline() {
        return Math.min(queues.nextDeadline(), registers.nextDeadline());
    }

    /** Whether the session exists. */
    public boolean hasSession(String sessionId) {
        return sessions.contains(sessionId);
    }

    /** The session's TTL in milliseconds, or -1 if it does not exist. */
    public long sessionTtlMillis(String sessionId) {
        return sessions.ttlMillis(sessionId);
    }

    /** The ids of all sessions, sorted. */
    public List<String> sessionIds() {
        return sessions.ids();
    }

    /** What the session holds and waits for now ({@link SessionState}); empty if it does not exist. */
    public Optional<SessionState> sessionState(String sessionId) {
        return SessionState.of(sessions.get(sessionId));
    }

    public int sessionCount() {
        return sessions.size();
    }

    /** Locks and semaphores that are held, waited for or lock-delayed. */
    public int resourceCount() {
        return queues.size();
    }

    /** Whether {@code token} is the token of a current grant of {@code name}. */
    public boolean isCurrentHolder(String name, long token) {
        return queues.isCurrentHolder(name, token);
    }

    /**
     * The protocol version each member last reported ({@link Command.ReportVersion}), sorted by
     * member id; members that never reported are absent. Reports under a name with a colon, which
     * no member id holds, are not members' versions and are left out: the server records its
     * cluster's identity so ({@link #versionReports()}).
     */
    public Map<String, Integer> memberVersions() {
        Map<String, Integer> members = new java.util.TreeMap<>(memberVersions.all());
        members.keySet().removeIf(name -> name.indexOf(':') >= 0);
        return members;
    }

    /**
     * Every report the table holds, those under reserved names (with a colon) included, sorted by
     * name: what a snapshot keeps.
     */
    public Map<String, Integer> versionReports() {
        return memberVersions.all();
    }

    /**
     * The protocol version a cluster of these members can apply: the lowest any of them reported,
     * a member that has not reported counting as 1, but never below the {@link #versionFloor()
     * floor} (see {@link Vocabulary}).
     */
    public int clusterVersion(java.util.Collection<String> members) {
        return memberVersions.clusterVersion(members);
    }

    /** The name under which the leader reports the cluster's version, a floor that only rises. */
    public static final String VERSION_FLOOR = MemberVersions.FLOOR;

    /** The cluster's version as last recorded ({@link #VERSION_FLOOR}); 0 while none is. */
    public int versionFloor() {
        return memberVersions.floor();
    }

    /** The register's value, or empty if it is absent (never written, or deleted). */
    public Optional<RegisterValue> register(String key) {
        return registers.get(key);
    }

    /** The key with its session and time to live, or empty if it is absent. */
    public Optional<KeyPage.Entry> key(String key) {
        return registers.entry(key);
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
        return registers.page(prefix, after, limit, visible, readAt);
    }

    /** One lock or semaphore as operators see it, timed by {@code nowMillis} (or the table's clock). */
    public Optional<LockInfo> describe(String name, long nowMillis) {
        return TableViews.describe(queues.map(), name, Math.max(now(), nowMillis));
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
        return TableViews.list(queues.map(), prefix, after, limit, Math.max(now(), nowMillis), visible);
    }

    /**
     * One page of sessions: ids after {@code after} (null: from the first) that {@code visible}
     * accepts, sorted by id, at most {@code limit}; without the TTL left (only the leader's tracker
     * knows it).
     */
    public List<SessionPage.Session> sessions(
            String after, int limit, long nowMillis, java.util.function.Predicate<SessionPage.Session> visible) {
        return TableViews.sessions(sessions.map(), after, limit, Math.max(now(), nowMillis), visible);
    }

    /**
     * Whether {@code identity} may see every session and revoke anything: always while access
     * rules are off, else only an admin.
     */
    public boolean isAdmin(String identity) {
        return admission.isAdmin(identity);
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
        return TableViews.stats(sessions.map(), queues.map(), registers, queues.lastToken());
    }

    // ---------------------------------------------------------------------------------- snapshots

    /** Writes the whole table in the versioned snapshot format; see {@link SnapshotCodec}. */
    public void writeSnapshot(OutputStream out) throws IOException {
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
     * restore}). It keeps what is data: the registers with their versions, the access rules, the deny list of tokens, the
     * cluster clock. It drops what belongs to clients of the old cluster: every session, and with
     * them every hold and every wait, so that no lock is held by a client that cannot know the
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
        LockTable fresh = new LockTable(bugs);
        registers.copyInto(fresh.registers);
        fresh.admission.restoreRules(admission.rules());
        revokedTokens.entries().forEach(fresh.revokedTokens::restore);
        fresh.queues.restoreClock(now(), Math.max(lastToken(), tokenFloor));
        if (versionFloor() > 0) {
            fresh.memberVersions.report(MemberVersions.FLOOR, versionFloor());
        }
        fresh.restoreDerived();
        return fresh;
    }

    // Package-private access for the snapshot codec.

    Map<String, Session> sessionsMap() {
        return sessions.map();
    }

    Map<String, Resource> resourcesMap() {
        return queues.map();
    }

    Map<String, Registers.Register> registersMap() {
        return registers.map();
    }

    boolean restoreMemberVersion(String member, int version) {
        return memberVersions.restore(member, version);
    }

    void restoreRules(AccessRules rules) {
        admission.restoreRules(rules);
    }

    RevokedTokens revokedTokens() {
        return revokedTokens;
    }

    /** Rebuilds what is derived from the restored sessions and registers. */
    void restoreDerived() {
        sessions.recount();
        registers.recount();
    }

    /** The locks, queues and clock, for the snapshot codec to re-link what it restores. */
    Queues queues() {
        return queues;
    }
}
