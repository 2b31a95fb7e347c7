package io.holdfast.core;

import io.holdfast.ErrorCode;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockInfo;
import io.holdfast.LockMode;
import io.holdfast.Names;
import io.holdfast.core.Command.Acquire;
import io.holdfast.core.Command.AcquireAll;
import io.holdfast.core.Command.CancelWait;
import io.holdfast.core.Command.ClientCommand;
import io.holdfast.core.Command.CloseSession;
import io.holdfast.core.Command.ExpireSession;
import io.holdfast.core.Command.Invocation;
import io.holdfast.core.Command.KeepAlive;
import io.holdfast.core.Command.OpenSession;
import io.holdfast.core.Command.RegisterSet;
import io.holdfast.core.Command.Release;
import io.holdfast.core.Command.Renew;
import io.holdfast.core.Command.Revoke;
import io.holdfast.core.Command.Tick;
import io.holdfast.core.Reply.Failed;
import io.holdfast.core.WaitForGraph.OwnerKey;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The deterministic lock state machine: sessions, locks (exclusive and shared, reentrant per
 * owner), semaphores, FIFO wait queues with deadlines, fencing tokens, lease timeouts, lock-delay,
 * deadlock detection, versioned registers and admin revoke.
 *
 * <p><b>For maintainers.</b> The table has no I/O, no threads and no clock. Time enters only as the
 * {@code time} of each command; the table's clock is the largest time seen so far, so it never goes
 * backwards even if a new leader's clock is behind. Deadlines pass only when a command says so:
 * the leader proposes a {@link Tick} when {@link #nextDeadline()} is due and an {@link
 * ExpireSession} when a session's heartbeats stop. Every replica that applies the same commands in
 * the same order reaches the same state, replies and events; {@link #apply} never throws for a
 * command, whatever its content: bad input becomes a {@link Failed} reply and changes nothing.
 *
 * <p>Fencing tokens come from one counter for the whole table: every grant takes the next value,
 * so tokens grow across all names, leader changes and restarts (the counter is in the snapshot).
 * A reentrant grant keeps the token of the first grant.
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

    private final Map<String, Session> sessions = new HashMap<>();
    private final Map<String, Resource> resources = new HashMap<>();
    private final Registers registers = new Registers();
    private final WaitForGraph waitsFor = new WaitForGraph();
    private final Timers timers = new Timers();
    private final Set<PlantedBug> bugs;
    private final Admission admission = new Admission();

    private final MemberVersions memberVersions = new MemberVersions();
    /** Open sessions per identity ("" for none), for the sessions quota (derived). */
    private final Map<String, Integer> sessionsByIdentity = new HashMap<>();

    private long now;
    private long lastToken;
    /** The Raft term of the entry being applied; read only by the planted bug TOKEN_FROM_TERM. */
    private long term;

    /** A value read from a register: its version and a copy of its bytes. */
    public record RegisterValue(long version, byte[] value) {}

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
        this.term = term;
    }

    /**
     * Applies one command.
     *
     * @param command the command, in log order
     * @param events receives the events the command causes, in order
     * @return the reply; never null, never thrown
     */
    public Reply apply(Command command, EventSink events) {
        if (command == null) {
            return Failed.of(ErrorCode.INVALID_ARGUMENT, "command must not be null");
        }
        return apply(Command.Authored.anonymous(command), events);
    }

    /**
     * Applies one command on behalf of the identity that sent it. A session belongs to the
     * identity that opened it: a client command naming another identity's session is refused with
     * {@link ErrorCode#PERMISSION_DENIED}, whether access rules are on or not. While rules are on
     * ({@link #accessRules()}), each command also needs its verb on its name.
     *
     * @param authored the command and its sender's identity (null: unauthenticated, or the leader)
     * @param events receives the events the command causes, in order
     * @return the reply; never null, never thrown
     */
    public Reply apply(Command.Authored authored, EventSink events) {
        if (authored == null || authored.command() == null) {
            return Failed.of(ErrorCode.INVALID_ARGUMENT, "command must not be null");
        }
        Command command = authored.command();
        String identity = authored.identity();
        try {
            if (command.time() > now) {
                now = command.time();
            }
            if (command instanceof ClientCommand cc) {
                return applyClient(cc, identity, events);
            }
            if (command instanceof OpenSession c) {
                return openSession(c, identity);
            }
            if (command instanceof Revoke c) {
                Names.check(c.name());
                Failed refused = admission.checkRevoke(identity, c.name());
                return refused != null ? refused : revoke(c, events);
            }
            if (command instanceof Command.SetAccessRules c) {
                return admission.setAccessRules(c, identity);
            }
            if (identity != null) {
                return admission.refuse(command.getClass().getSimpleName() + " is proposed by the leader only");
            }
            if (command instanceof Command.ReportVersion c) {
                memberVersions.report(c.member(), c.version());
                return Reply.Ok.INSTANCE;
            }
            if (command instanceof Tick) {
                tick(events);
                return Reply.Ok.INSTANCE;
            }
            if (command instanceof KeepAlive c) {
                return sessions.containsKey(c.sessionId()) ? Reply.Ok.INSTANCE : unknownSession(c.sessionId());
            }
            if (command instanceof ExpireSession c) {
                Session s = sessions.get(c.sessionId());
                if (s == null) {
                    return new Reply.Ok(0);
                }
                endSession(s, true, events);
                return new Reply.Ok(1);
            }
            return Failed.of(
                    ErrorCode.INVALID_ARGUMENT,
                    "unknown command " + command.getClass().getSimpleName());
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
            return unknownSession(inv.sessionId());
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
        if (command instanceof Acquire c) {
            return acquire(c, session, events);
        }
        if (command instanceof Release c) {
            return release(c, session, events);
        }
        if (command instanceof AcquireAll c) {
            return acquireAll(c, session, events);
        }
        if (command instanceof Renew c) {
            return renew(c, session);
        }
        if (command instanceof CancelWait c) {
            return cancelWait(c, session, events);
        }
        if (command instanceof RegisterSet c) {
            return registers.set(c, this::isCurrentHolder, admission, stateEntries());
        }
        if (command instanceof CloseSession) {
            endSession(session, false, events);
            return Reply.Ok.INSTANCE;
        }
        return Failed.of(
                ErrorCode.INVALID_ARGUMENT,
                "unknown command " + command.getClass().getSimpleName());
    }

    // ---------------------------------------------------------------------------------- sessions

    private Reply openSession(OpenSession c, String identity) {
        String id = c.sessionId();
        checkSessionId(id);
        if (c.clientName() == null || c.clientName().isEmpty() || c.clientName().length() > Limits.MAX_CLIENT_NAME) {
            throw new InvalidArgumentException("client name must be 1 to " + Limits.MAX_CLIENT_NAME + " characters");
        }
        checkRange("session TTL", c.ttlMillis(), Limits.MIN_TTL_MILLIS, Limits.MAX_TTL_MILLIS);
        checkRange("lock-delay", c.lockDelayMillis(), 0, Limits.MAX_LOCK_DELAY_MILLIS);
        Session existing = sessions.get(id);
        if (existing != null) {
            boolean same = existing.ttlMillis == c.ttlMillis()
                    && existing.lockDelayMillis == c.lockDelayMillis()
                    && existing.clientName.equals(c.clientName());
            same &= java.util.Objects.equals(existing.identity, identity);
            return same
                    ? Reply.Ok.INSTANCE
                    : Failed.of(ErrorCode.INVALID_ARGUMENT, "session id " + id + " is already in use");
        }
        Failed refused = admission.checkOpen(identity);
        if (refused != null) {
            return refused;
        }
        AccessRules.Quotas q = admission.quotas();
        String key = identity == null ? "" : identity;
        int mine = sessionsByIdentity.getOrDefault(key, 0);
        if (mine >= q.sessionsPerIdentity()) {
            return admission.quotaExceeded(
                    Admission.SESSIONS_PER_IDENTITY, Admission.describe(identity) + " has " + mine + " open sessions");
        }
        if (stateEntries() >= q.stateEntries()) {
            return admission.stateEntriesExceeded(stateEntries());
        }
        sessions.put(id, new Session(id, identity, c.clientName(), c.ttlMillis(), c.lockDelayMillis(), now));
        sessionsByIdentity.merge(key, 1, Integer::sum);
        return Reply.Ok.INSTANCE;
    }

    // ------------------------------------------------------------------------- access and quotas

    private int stateEntries() {
        return sessions.size() + resources.size() + registers.size();
    }

    /** The access rules, or null while access control is off. */
    public AccessRules accessRules() {
        return admission.rules();
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
        Session s = sessions.get(sessionId);
        return s != null && java.util.Objects.equals(s.identity, identity);
    }

    /** The identity that opened a session (null: none), or empty if there is no such session. */
    public Optional<String> sessionIdentity(String sessionId) {
        Session s = sessions.get(sessionId);
        return s == null ? Optional.empty() : Optional.of(s.identity == null ? "" : s.identity);
    }

    /**
     * Refusals since this table was made, by quota name, plus {@code permission-denied}. These
     * counts belong to this replica (they are not replicated, and start at 0 after a restart).
     */
    public Map<String, Long> refusals() {
        return admission.refusals();
    }

    private static void checkSessionId(String id) {
        if (id == null || id.length() < Limits.MIN_SESSION_ID || id.length() > Limits.MAX_SESSION_ID) {
            throw new InvalidArgumentException(
                    "session id must be " + Limits.MIN_SESSION_ID + " to " + Limits.MAX_SESSION_ID + " characters");
        }
        for (int i = 0; i < id.length(); i++) {
            char ch = id.charAt(i);
            boolean ok = (ch >= 'a' && ch <= 'z')
                    || (ch >= 'A' && ch <= 'Z')
                    || (ch >= '0' && ch <= '9')
                    || ch == '-'
                    || ch == '_';
            if (!ok) {
                throw new InvalidArgumentException("session id may only contain A-Z a-z 0-9 - _");
            }
        }
    }

    private static Failed unknownSession(String id) {
        return Failed.of(ErrorCode.SESSION_EXPIRED, "session " + id + " is unknown or expired");
    }

    /** Ends a session: releases its holds, cancels its waits, grants what that frees. */
    private void endSession(Session s, boolean expired, EventSink events) {
        // PLANTED BUG (verification only): grant-after-expiry: an expired session that waits stays
        // in the table with its waits queued (so that snapshots can still name it); they can be
        // granted later, though its client was told that the session expired.
        boolean keepWaits = expired && s.waitsHead != null && bugs.contains(PlantedBug.GRANT_AFTER_EXPIRY);
        if (!keepWaits) {
            sessions.remove(s.id);
            sessionsByIdentity.computeIfPresent(s.identity == null ? "" : s.identity, (k, n) -> n > 1 ? n - 1 : null);
        }
        List<Resource> touched = new ArrayList<>();
        for (Hold h = s.holdsHead; h != null; ) {
            Hold next = h.sNext;
            detach(h);
            Resource r = h.resource;
            if (expired) {
                events.accept(new Event.Lost(s.id, r.name, h.token, Event.Reason.SESSION_EXPIRED));
                if (s.lockDelayMillis > 0 && r.blockedUntil < now + s.lockDelayMillis) {
                    r.blockedUntil = now + s.lockDelayMillis;
                    timers.unblock(r);
                }
            }
            touched.add(r);
            h = next;
        }
        for (Waiter w = keepWaits ? null : s.waitsHead; w != null; ) {
            Waiter next = w.sNext;
            detach(w);
            touched.add(w.resource);
            w = next;
        }
        if (expired) {
            events.accept(new Event.SessionExpired(s.id));
        }
        // Grant in name order: the same on every replica, however the lists were built.
        touched.sort(java.util.Comparator.comparing(r -> r.name));
        for (Resource r : touched) {
            grantWaiters(r, events);
            dropIfIdle(r);
        }
    }

    // ---------------------------------------------------------------------------------- acquire

    private Reply acquire(Acquire c, Session session, EventSink events) {
        String name = Names.check(c.name());
        LockMode mode = c.mode();
        if (mode == null) {
            throw new InvalidArgumentException("mode must not be null");
        }
        boolean semaphore = mode == LockMode.PERMITS;
        if (semaphore) {
            checkRange("semaphore size", c.maxPermits(), 1, Limits.MAX_PERMITS);
            checkRange("permits", c.permits(), 1, c.maxPermits());
        } else if (c.permits() != 1 || c.maxPermits() != 1) {
            throw new InvalidArgumentException("a lock is acquired with 1 permit of 1");
        }
        checkRange("wait", c.waitMillis(), 0, Limits.MAX_WAIT_MILLIS);
        if (c.leaseMillis() != 0) {
            checkRange("lease timeout", c.leaseMillis(), Limits.MIN_LEASE_MILLIS, Limits.MAX_WAIT_MILLIS);
        }
        Resource r = resources.get(name);
        if (r != null && (r.semaphore != semaphore || r.maxPermits != c.maxPermits())) {
            return Failed.of(
                    ErrorCode.INVALID_ARGUMENT,
                    r.semaphore
                            ? name + " is a semaphore with " + r.maxPermits + " permits"
                                    + (semaphore ? ", not " + c.maxPermits() : ", not a lock")
                            : name + " is a lock, not a semaphore");
        }
        if (session.findWaitOfOwner(c.owner()) != null) {
            return Failed.of(
                    ErrorCode.INVALID_ARGUMENT,
                    "owner " + c.owner() + " already waits for " + session.findWaitOfOwner(c.owner()).resource.name
                            + "; one wait per owner at a time");
        }
        AccessRules.Quotas q = admission.quotas();
        if (r == null) {
            if (stateEntries() >= q.stateEntries()) {
                return admission.stateEntriesExceeded(stateEntries());
            }
            r = new Resource(name, semaphore, c.maxPermits());
            resources.put(name, r);
        }
        if (!semaphore && c.reentrant()) {
            Hold mine = r.findHolderOfOwner(session, c.owner());
            if (mine != null && (mine.mode == LockMode.EXCLUSIVE || mode == LockMode.SHARED)) {
                mine.count++;
                return new Reply.Granted(mine.token, mine.count);
            }
        }
        if (session.holdCount >= q.holdsPerSession()) {
            dropIfIdle(r);
            return admission.quotaExceeded(
                    Admission.HOLDS_PER_SESSION, "session " + session.id + " holds " + session.holdCount + " grants");
        }
        if (r.queueHead == null && r.blockedUntil <= now && r.compatible(mode, c.permits())) {
            Hold h = grant(session, r, c.owner(), mode, c.permits(), c.leaseMillis());
            return new Reply.Granted(h.token, 1);
        }
        if (c.waitMillis() == 0) {
            dropIfIdle(r);
            return Reply.Busy.INSTANCE;
        }
        if (session.waitCount >= q.waitsPerSession()) {
            dropIfIdle(r);
            return admission.quotaExceeded(
                    Admission.WAITS_PER_SESSION,
                    "session " + session.id + " waits for " + session.waitCount + " grants");
        }
        if (r.waiterCount >= q.waitersPerLock()) {
            dropIfIdle(r);
            return admission.quotaExceeded(Admission.WAITERS_PER_LOCK, name + " has " + r.waiterCount + " waiters");
        }
        if (!semaphore) {
            List<String> cycle = waitsFor.findCycle(new OwnerKey(session.id, c.owner()), List.of(r), mode);
            if (cycle != null) {
                dropIfIdle(r);
                return new Failed(
                        ErrorCode.DEADLOCK,
                        "waiting for " + name + " would deadlock: " + String.join(" -> ", cycle) + " -> " + name,
                        cycle,
                        -1);
            }
        }
        Waiter w = new Waiter(
                session,
                r,
                c.owner(),
                c.invocation().seq(),
                mode,
                c.permits(),
                now,
                now + c.waitMillis(),
                c.leaseMillis());
        r.enqueue(w);
        session.addWait(w);
        waitsFor.add(w);
        timers.wait(w);
        return Reply.Queued.INSTANCE;
    }

    // ---------------------------------------------------------------------------------- multi-locks

    /**
     * A multi-lock: every name granted in this step, or one wait with a place in each name's queue.
     * Everything is checked before anything changes, so a refusal leaves the table as it was.
     */
    private Reply acquireAll(AcquireAll c, Session session, EventSink events) {
        List<String> names = c.names();
        if (names == null || names.isEmpty() || names.size() > Limits.MAX_MULTI_NAMES) {
            throw new InvalidArgumentException("a multi-lock takes 1 to " + Limits.MAX_MULTI_NAMES + " names, not "
                    + (names == null ? "null" : names.size()));
        }
        for (int i = 0; i < names.size(); i++) {
            Names.check(names.get(i));
            if (i > 0 && names.get(i - 1).compareTo(names.get(i)) >= 0) {
                throw new InvalidArgumentException("a multi-lock's names must be sorted and distinct: "
                        + names.get(i - 1) + " comes before " + names.get(i));
            }
        }
        LockMode mode = c.mode();
        if (mode != LockMode.EXCLUSIVE && mode != LockMode.SHARED) {
            throw new InvalidArgumentException("a multi-lock is exclusive or shared, not " + mode);
        }
        checkRange("wait", c.waitMillis(), 0, Limits.MAX_WAIT_MILLIS);
        if (c.leaseMillis() != 0) {
            checkRange("lease timeout", c.leaseMillis(), Limits.MIN_LEASE_MILLIS, Limits.MAX_WAIT_MILLIS);
        }
        Waiter waiting = session.findWaitOfOwner(c.owner());
        if (waiting != null) {
            return Failed.of(
                    ErrorCode.INVALID_ARGUMENT,
                    "owner " + c.owner() + " already waits for " + waiting.resource.name
                            + "; one wait per owner at a time");
        }
        List<Resource> existing = new ArrayList<>(names.size());
        boolean free = true;
        for (String name : names) {
            Resource r = resources.get(name);
            if (r == null) {
                continue;
            }
            if (r.semaphore) {
                return Failed.of(ErrorCode.INVALID_ARGUMENT, name + " is a semaphore, not a lock");
            }
            if (r.findHolderOfOwner(session, c.owner()) != null) {
                return Failed.of(
                        ErrorCode.INVALID_ARGUMENT,
                        "owner " + c.owner() + " holds " + name + " already; a multi-lock is not reentrant");
            }
            existing.add(r);
            free &= r.queueHead == null && r.blockedUntil <= now && r.compatible(mode, 1);
        }
        AccessRules.Quotas q = admission.quotas();
        int created = names.size() - existing.size();
        if (stateEntries() + created > q.stateEntries()) {
            return admission.quotaExceeded(
                    Admission.STATE_ENTRIES,
                    "the table holds " + stateEntries() + " sessions, locks and registers, and " + created
                            + " more are asked for");
        }
        if (session.holdCount + names.size() > q.holdsPerSession()) {
            return admission.quotaExceeded(
                    Admission.HOLDS_PER_SESSION,
                    "session " + session.id + " holds " + session.holdCount + " grants, and " + names.size()
                            + " more are asked for");
        }
        if (free) {
            List<Long> tokens = new ArrayList<>(names.size());
            for (String name : names) {
                tokens.add(grant(session, resource(name), c.owner(), mode, 1, c.leaseMillis()).token);
            }
            return new Reply.GrantedAll(tokens);
        }
        if (c.waitMillis() == 0) {
            return Reply.Busy.INSTANCE;
        }
        if (session.waitCount + names.size() > q.waitsPerSession()) {
            return admission.quotaExceeded(
                    Admission.WAITS_PER_SESSION,
                    "session " + session.id + " waits for " + session.waitCount + " grants, and " + names.size()
                            + " more are asked for");
        }
        for (Resource r : existing) {
            if (r.waiterCount >= q.waitersPerLock()) {
                return admission.quotaExceeded(
                        Admission.WAITERS_PER_LOCK, r.name + " has " + r.waiterCount + " waiters");
            }
        }
        List<String> cycle = waitsFor.findCycle(new OwnerKey(session.id, c.owner()), existing, mode);
        if (cycle != null) {
            return new Failed(
                    ErrorCode.DEADLOCK,
                    "waiting for " + String.join(", ", names) + " would deadlock: " + String.join(" -> ", cycle)
                            + " -> " + cycle.get(0),
                    cycle,
                    -1);
        }
        Waiter[] group = new Waiter[names.size()];
        for (int i = 0; i < group.length; i++) {
            group[i] = new Waiter(
                    session,
                    resource(names.get(i)),
                    c.owner(),
                    c.invocation().seq(),
                    mode,
                    1,
                    now,
                    now + c.waitMillis(),
                    c.leaseMillis());
            group[i].group = group;
            group[i].resource.enqueue(group[i]);
            session.addWait(group[i]);
        }
        waitsFor.add(group[0]);
        timers.wait(group[0]);
        return Reply.Queued.INSTANCE;
    }

    /** The lock of this name, made if it does not exist (its quota was checked by the caller). */
    private Resource resource(String name) {
        return resources.computeIfAbsent(name, n -> new Resource(n, false, 1));
    }

    /**
     * Whether a multi-lock whose member heads {@code r}'s queue can be granted now: every member
     * heads its queue, and every lock is free of lock-delay and has room for its mode. Checked
     * whenever one of its queues moves (see {@link #grantWaiters}), which is when the answer can
     * change from no to yes.
     */
    private boolean groupFits(Waiter[] group, Resource r) {
        // PLANTED BUG (verification only): multi-lock-partial-grant: the multi-lock is granted as
        // soon as the queue that moved has room for it, whatever holds its other names.
        if (bugs.contains(PlantedBug.MULTI_LOCK_PARTIAL_GRANT)) {
            return r.compatible(group[0].mode, 1);
        }
        for (Waiter m : group) {
            Resource mr = m.resource;
            if (mr.queueHead != m || mr.blockedUntil > now || !mr.compatible(m.mode, 1)) {
                return false;
            }
        }
        return true;
    }

    /** Grants every member of a fitting multi-lock in one step; its other queues go on the work list. */
    private ArrayDeque<Resource> grantGroup(Waiter[] group, Resource r, EventSink events, ArrayDeque<Resource> more) {
        List<Long> tokens = new ArrayList<>(group.length);
        for (Waiter m : group) {
            detach(m);
            tokens.add(grant(m.session, m.resource, m.owner, m.mode, 1, m.leaseMillis).token);
        }
        Waiter first = group[0];
        first.session.updateRemembered(first.seq, new Reply.GrantedAll(tokens));
        for (int i = 0; i < group.length; i++) {
            events.accept(new Event.Granted(first.session.id, first.seq, group[i].resource.name, tokens.get(i)));
        }
        return others(group, r, more);
    }

    /** Adds the queues of a group other than {@code r} to the work list, in name order. */
    private static ArrayDeque<Resource> others(Waiter[] group, Resource r, ArrayDeque<Resource> more) {
        for (Waiter m : group) {
            if (m.resource != r) {
                if (more == null) {
                    more = new ArrayDeque<>();
                }
                more.add(m.resource);
            }
        }
        return more;
    }

    /** Names of a multi-lock, for messages. */
    private static String names(Waiter w) {
        if (w.group == null) {
            return w.resource.name;
        }
        StringBuilder b = new StringBuilder();
        for (Waiter m : w.group) {
            b.append(b.length() == 0 ? "" : ", ").append(m.resource.name);
        }
        return b.toString();
    }

    private Hold grant(Session session, Resource r, long owner, LockMode mode, int permits, long leaseMillis) {
        long token;
        if (bugs.contains(PlantedBug.TOKEN_FROM_TERM)) {
            // PLANTED BUG (verification only): token-from-term: the token is the Raft term, so
            // grants in one term share it (the counter only keeps the snapshot's bound).
            token = Math.max(1, term);
            lastToken = Math.max(lastToken, token);
        } else {
            token = ++lastToken;
        }
        Hold h = new Hold(session, r, owner, token, mode, permits, now, leaseMillis);
        r.addHolder(h);
        session.addHold(h);
        timers.lease(h);
        return h;
    }

    /**
     * Grants waiters from the head of the queue while they fit; expires those past deadline. A
     * multi-lock that leaves its queues (granted or timed out) lets the other queues it stood in
     * move too: they are worked through the same way, in the order they were reached, which is
     * the same on every replica.
     */
    private void grantWaiters(Resource r, EventSink events) {
        ArrayDeque<Resource> more = grantQueue(r, events, null);
        while (more != null && !more.isEmpty()) {
            grantQueue(more.poll(), events, more);
        }
    }

    /** One queue's part of {@link #grantWaiters}; returns the work list (null while empty). */
    private ArrayDeque<Resource> grantQueue(Resource r, EventSink events, ArrayDeque<Resource> more) {
        while (r.queueHead != null && r.blockedUntil <= now) {
            Waiter w = r.queueHead;
            if (w.deadline <= now) {
                more = timeOut(w, events, more);
                continue;
            }
            if (w.group != null) {
                if (!groupFits(w.group, r)) {
                    return more; // it keeps its place: those behind it wait, so it is not starved
                }
                more = grantGroup(w.group, r, events, more);
                continue;
            }
            if (!r.compatible(w.mode, w.permits)) {
                return more;
            }
            detach(w);
            Hold h = grant(w.session, r, w.owner, w.mode, w.permits, w.leaseMillis);
            w.session.updateRemembered(w.seq, new Reply.Granted(h.token, 1));
            events.accept(new Event.Granted(w.session.id, w.seq, r.name, h.token));
        }
        return more;
    }

    /** Ends a wait at its deadline (all members of a multi-lock); returns their other queues. */
    private ArrayDeque<Resource> timeOut(Waiter w, EventSink events, ArrayDeque<Resource> more) {
        Waiter first = w.group == null ? w : w.group[0];
        detachWait(w);
        first.session.updateRemembered(first.seq, Failed.of(ErrorCode.TIMEOUT, "timed out waiting for " + names(w)));
        events.accept(new Event.WaitTimedOut(first.session.id, first.seq, first.resource.name));
        return w.group == null ? more : others(w.group, w.resource, more);
    }

    /** Takes a wait off its queue: every member of a multi-lock's wait. */
    private void detachWait(Waiter w) {
        if (w.group == null) {
            detach(w);
        } else {
            for (Waiter m : w.group) {
                detach(m);
            }
        }
    }

    /** Takes one waiter off its queue and its session's list (one member of a multi-lock). */
    private void detach(Waiter w) {
        w.attached = false;
        w.resource.dequeue(w);
        w.session.removeWait(w);
        waitsFor.remove(w);
    }

    private void detach(Hold h) {
        h.attached = false;
        h.resource.removeHolder(h);
        h.session.removeHold(h);
    }

    private void dropIfIdle(Resource r) {
        if (r.isIdle(now) && resources.get(r.name) == r) {
            resources.remove(r.name);
        }
    }

    // ---------------------------------------------------------------------------------- release etc.

    private Reply release(Release c, Session session, EventSink events) {
        Resource r = resources.get(Names.check(c.name()));
        Hold h = r == null ? null : r.findHolder(session, c.token());
        if (h == null && r != null && bugs.contains(PlantedBug.RELEASE_BY_ANYONE)) {
            // PLANTED BUG (verification only): release-by-anyone: the holder with that token, or
            // else the first holder, is released whoever asks.
            h = r.findHolderByToken(c.token()) != null ? r.findHolderByToken(c.token()) : r.holdersHead;
        }
        if (h == null) {
            return Failed.of(
                    ErrorCode.NOT_OWNER,
                    "session " + session.id + " does not hold " + c.name() + " with token " + c.token());
        }
        if (--h.count > 0) {
            return new Reply.Ok(h.count);
        }
        detach(h);
        // PLANTED BUG (verification only): skipped-wakeup: the freed lock is not handed to its
        // head waiter (it waits until its deadline or some later event).
        if (!bugs.contains(PlantedBug.SKIPPED_WAKEUP)) {
            grantWaiters(r, events);
        }
        dropIfIdle(r);
        return Reply.Ok.INSTANCE;
    }

    private Reply renew(Renew c, Session session) {
        Resource r = resources.get(Names.check(c.name()));
        Hold h = r == null ? null : r.findHolder(session, c.token());
        if (h == null) {
            return Failed.of(
                    ErrorCode.NOT_OWNER,
                    "session " + session.id + " does not hold " + c.name() + " with token " + c.token());
        }
        if (h.leaseMillis == 0) {
            return new Reply.Ok(0);
        }
        if (h.leaseDeadline <= now) {
            // Due already: the next Tick takes it back. Renewing it here would make the outcome
            // depend on whether the renew or the Tick reached the log first.
            return Failed.of(
                    ErrorCode.NOT_OWNER,
                    "the lease of " + c.name() + " (token " + c.token() + ") ran out before this renewal");
        }
        h.leaseDeadline = now + h.leaseMillis;
        timers.lease(h);
        return new Reply.Ok(h.leaseDeadline);
    }

    private Reply cancelWait(CancelWait c, Session session, EventSink events) {
        Names.check(c.name());
        Waiter w = session.findWait(c.waitSeq());
        Waiter first = w == null || w.group == null ? w : w.group[0];
        if (first != null && first.resource.name.equals(c.name())) {
            detachWait(w);
            session.updateRemembered(w.seq, Failed.of(ErrorCode.TIMEOUT, "wait for " + names(w) + " was cancelled"));
            settleQueues(w, events);
            return new Reply.Ok(1);
        }
        // Already decided: tell the caller how (a grant it must now release, or a timeout).
        Reply outcome = session.cachedReply(c.waitSeq());
        return outcome instanceof Reply.Granted || outcome instanceof Reply.GrantedAll ? outcome : new Reply.Ok(0);
    }

    private Reply revoke(Revoke c, EventSink events) {
        Resource r = resources.get(Names.check(c.name()));
        if (r == null) {
            return new Reply.Ok(0);
        }
        int revoked = 0;
        for (Hold h = r.holdersHead; h != null; ) {
            Hold next = h.rNext;
            detach(h);
            events.accept(new Event.Lost(h.session.id, r.name, h.token, Event.Reason.REVOKED));
            revoked++;
            h = next;
        }
        grantWaiters(r, events);
        dropIfIdle(r);
        return new Reply.Ok(revoked);
    }

    private void tick(EventSink events) {
        Timers.Entry e;
        while ((e = timers.pollDue(now)) != null) {
            switch (e.kind()) {
                case Timers.LEASE -> {
                    Hold h = (Hold) e.target();
                    detach(h);
                    events.accept(new Event.Lost(h.session.id, h.resource.name, h.token, Event.Reason.LEASE_TIMEOUT));
                    grantWaiters(h.resource, events);
                    dropIfIdle(h.resource);
                }
                case Timers.WAIT -> {
                    Waiter w = (Waiter) e.target();
                    Resource r = w.resource;
                    if (w.group != null) {
                        timeOut(w, events, null);
                        settleQueues(w, events);
                    } else {
                        boolean wasHead = r.queueHead == w;
                        timeOut(w, events, null);
                        if (wasHead) {
                            grantWaiters(r, events);
                        }
                        dropIfIdle(r);
                    }
                }
                default -> {
                    Resource r = (Resource) e.target();
                    if (resources.get(r.name) == r) {
                        // Handled: a snapshot must not carry it, or a replica restored from that
                        // snapshot would run it again at its next tick, in another order.
                        r.blockedUntil = 0;
                        grantWaiters(r, events);
                        dropIfIdle(r);
                    }
                }
            }
        }
    }

    /** After a wait left its queues: lets each of them move, in name order, and drops idle locks. */
    private void settleQueues(Waiter w, EventSink events) {
        Waiter[] members = w.group == null ? new Waiter[] {w} : w.group;
        for (Waiter m : members) {
            grantWaiters(m.resource, events);
        }
        for (Waiter m : members) {
            dropIfIdle(m.resource);
        }
    }

    // ---------------------------------------------------------------------------------- queries

    /** The table's clock: the largest command time applied so far. */
    public long now() {
        return now;
    }

    /** The last fencing token granted (0 before the first grant). */
    public long lastToken() {
        return lastToken;
    }

    /**
     * The earliest cluster time at which a {@link Tick} has something to do, or {@link
     * Long#MAX_VALUE} if nothing is pending.
     */
    public long nextDeadline() {
        return timers.next();
    }

    /** Whether the session exists. */
    public boolean hasSession(String sessionId) {
        return sessions.containsKey(sessionId);
    }

    /** The session's TTL in milliseconds, or -1 if it does not exist. */
    public long sessionTtlMillis(String sessionId) {
        Session s = sessions.get(sessionId);
        return s == null ? -1 : s.ttlMillis;
    }

    /** The ids of all sessions, sorted. */
    public List<String> sessionIds() {
        List<String> ids = new ArrayList<>(sessions.keySet());
        Collections.sort(ids);
        return ids;
    }

    public int sessionCount() {
        return sessions.size();
    }

    /** Locks and semaphores that are held, waited for or lock-delayed. */
    public int resourceCount() {
        return resources.size();
    }

    /** Whether {@code token} is the token of a current grant of {@code name}. */
    public boolean isCurrentHolder(String name, long token) {
        Resource r = resources.get(name);
        return r != null && r.findHolderByToken(token) != null;
    }

    /**
     * The protocol version each member last reported ({@link Command.ReportVersion}), sorted by
     * member id; members that never reported are absent.
     */
    public Map<String, Integer> memberVersions() {
        return memberVersions.all();
    }

    /**
     * The protocol version a cluster of these members can apply: the lowest any of them reported,
     * a member that has not reported counting as 1 (see {@link Vocabulary}).
     */
    public int clusterVersion(java.util.Collection<String> members) {
        return memberVersions.clusterVersion(members);
    }

    /** The register's value, or empty if it was never written. */
    public Optional<RegisterValue> register(String key) {
        return registers.get(key);
    }

    /** One lock or semaphore as operators see it, timed by {@code nowMillis} (or the table's clock). */
    public Optional<LockInfo> describe(String name, long nowMillis) {
        return TableViews.describe(resources, name, Math.max(now, nowMillis));
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
        return TableViews.list(resources, prefix, after, limit, Math.max(now, nowMillis), visible);
    }

    /**
     * One page of sessions: ids after {@code after} (null: from the first) that {@code visible}
     * accepts, sorted by id, at most {@code limit}; without the TTL left (only the leader's tracker
     * knows it).
     */
    public List<SessionPage.Session> sessions(
            String after, int limit, long nowMillis, java.util.function.Predicate<SessionPage.Session> visible) {
        return TableViews.sessions(sessions, after, limit, Math.max(now, nowMillis), visible);
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
        return TableViews.stats(sessions, resources, registers, lastToken);
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
     * restore}). It keeps what is data: the registers with their versions, the access rules, the
     * cluster clock. It drops what belongs to clients of the old cluster: every session, and with
     * them every hold and every wait, so that no lock is held by a client that cannot know the
     * cluster it holds it in; and the protocol versions the old members reported (the new
     * cluster's members report their own). The next fencing token it grants is above both this table's last
     * token and {@code tokenFloor}: the restorer chooses the floor above whatever the old cluster
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
        fresh.now = now;
        fresh.lastToken = Math.max(lastToken, tokenFloor);
        fresh.restoreDerived();
        return fresh;
    }

    // Package-private access for the snapshot codec.

    Map<String, Session> sessionsMap() {
        return sessions;
    }

    Map<String, Resource> resourcesMap() {
        return resources;
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

    /** Rebuilds what is derived from the restored sessions and registers. */
    void restoreDerived() {
        sessionsByIdentity.clear();
        for (Session s : sessions.values()) {
            sessionsByIdentity.merge(s.identity == null ? "" : s.identity, 1, Integer::sum);
        }
        registers.recount();
    }

    void restoreClock(long now, long lastToken) {
        this.now = now;
        this.lastToken = lastToken;
    }

    /** Re-links a restored hold and rebuilds its derived state (timers). */
    void restoreHold(Hold h) {
        h.resource.addHolder(h);
        h.session.addHold(h);
        timers.lease(h);
    }

    /** Re-links a restored waiter and rebuilds its derived state (timers, wait-for index). */
    void restoreWaiter(Waiter w) {
        w.resource.enqueue(w);
        w.session.addWait(w);
        if (w.group == null || w.group[0] == w) {
            waitsFor.add(w);
            timers.wait(w);
        }
    }

    void restoreBlocked(Resource r) {
        if (r.blockedUntil > 0) {
            timers.unblock(r);
        }
    }

    private static void checkRange(String what, long value, long min, long max) {
        if (value < min || value > max) {
            throw new InvalidArgumentException(what + " must be between " + min + " and " + max + ", not " + value);
        }
    }
}
