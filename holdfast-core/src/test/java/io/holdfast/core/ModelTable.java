package io.holdfast.core;

import io.holdfast.ErrorCode;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockMode;
import io.holdfast.Names;
import io.holdfast.model.Command;
import io.holdfast.model.CounterAdd;
import io.holdfast.model.Event;
import io.holdfast.model.KeyDelete;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The reference model of {@link LockTable} for the property tests: the same contract (DESIGN.md,
 * the javadoc of LockTable and Command), written as plainly as possible so that it is obviously
 * right, and compared with the real table command by command.
 *
 * <p>How it differs from the real table, on purpose: every hold lives in one list in grant order
 * (so in token order) and every waiter in one list in arrival order; a resource's holders and its
 * queue are filters of those lists. Compatibility, the wait-for graph and the next deadline are
 * recomputed from scratch whenever they are needed. There are no timers: a tick rescans everything
 * for the earliest due deadline, handles it, and rescans, until nothing is due. Due deadlines are
 * taken in the order (time, kind, key, number): kind lease 0, wait 1, lock-delay end 2; key the
 * resource name for leases and lock-delays, the session id for waits; number the token for leases,
 * the acquire's seq for waits, 0 for lock-delays. A lock-delay's end is handled once.
 *
 * <p>Where the contract leaves order to the implementation, the model follows LockTable's documented
 * choices: when a session ends, its holds are released in token order, then the resources it
 * touched are served in name order; serving a queue times out an expired head instead of granting
 * it; a wait that times out in the middle of a queue does not serve the queue.
 *
 * <p>A resource record exists from the acquire that first names it until one of the "drop if idle"
 * points finds it without holders, waiters or a lock-delay in the future: a release to zero, a busy
 * try, a refused deadlock, a cancel, a revoke, the end of a session, and each handled deadline. Its
 * existence can be observed (a semaphore's name cannot be taken as a lock while it exists), so the
 * model keeps it exactly.
 *
 * <p>Replies carry no useful messages (compare them with {@link ModelView#norm}); deadlock replies
 * carry no cycle.
 */
final class ModelTable {
    private long now;
    private long lastToken;
    private final Map<String, MSession> sessions = new TreeMap<>();
    private final Map<String, MResource> resources = new TreeMap<>();
    private final List<MHold> holds = new ArrayList<>();
    private final List<MWait> waits = new ArrayList<>();
    private final Map<String, MRegister> registers = new TreeMap<>();

    private static final class MSession {
        final String id;
        final String clientName;
        final long ttlMillis;
        final long lockDelayMillis;
        final long openedAt;
        long ackedBelow;
        final TreeMap<Long, Reply> replies = new TreeMap<>();

        MSession(String id, String clientName, long ttlMillis, long lockDelayMillis, long openedAt) {
            this.id = id;
            this.clientName = clientName;
            this.ttlMillis = ttlMillis;
            this.lockDelayMillis = lockDelayMillis;
            this.openedAt = openedAt;
        }
    }

    private static final class MResource {
        final String name;
        final boolean semaphore;
        final int maxPermits;
        long blockedUntil;
        boolean delayPending;

        MResource(String name, boolean semaphore, int maxPermits) {
            this.name = name;
            this.semaphore = semaphore;
            this.maxPermits = maxPermits;
        }
    }

    private static final class MHold {
        final String session;
        final String name;
        final long owner;
        final long token;
        final LockMode mode;
        final int permits;
        final long grantedAt;
        final long leaseMillis;
        long leaseDeadline;

        MHold(String session, String name, long owner, long token, LockMode mode, int permits, long at, long lease) {
            this.session = session;
            this.name = name;
            this.owner = owner;
            this.token = token;
            this.mode = mode;
            this.permits = permits;
            this.grantedAt = at;
            this.leaseMillis = lease;
            this.leaseDeadline = lease == 0 ? Long.MAX_VALUE : at + lease;
        }
    }

    private record MWait(
            String session,
            String name,
            long owner,
            long seq,
            LockMode mode,
            int permits,
            long enqueuedAt,
            long deadline,
            long leaseMillis) {}

    private record MRegister(long version, byte[] value, String owner) {}

    private record Owner(String session, long owner) {}

    /** A due deadline: what a timer entry is in the real table. */
    private record Due(long at, int kind, String key, long num, Object target) {}

    private static final Comparator<Due> DUE_ORDER = Comparator.comparingLong(Due::at)
            .thenComparingInt(Due::kind)
            .thenComparing(Due::key)
            .thenComparingLong(Due::num);

    // ------------------------------------------------------------------------------- commands

    Reply apply(long time, Command command, List<Event> events) {
        if (command == null) {
            return invalid();
        }
        now = Math.max(now, time);
        if (command instanceof Command.ClientCommand c) {
            return client(c, events);
        }
        if (command instanceof Command.Tick) {
            tick(events);
            return new Reply.Ok(0);
        }
        if (command instanceof Command.OpenSession c) {
            return open(c);
        }
        if (command instanceof Command.KeepAlive c) {
            return c.sessionId() != null && sessions.containsKey(c.sessionId()) ? new Reply.Ok(0) : expired();
        }
        if (command instanceof Command.ExpireSession c) {
            if (c.sessionId() == null || !sessions.containsKey(c.sessionId())) {
                return new Reply.Ok(0);
            }
            endSession(c.sessionId(), true, events);
            return new Reply.Ok(1);
        }
        if (command instanceof Command.Revoke c) {
            return revoke(c, events);
        }
        return invalid();
    }

    private Reply client(Command.ClientCommand command, List<Event> events) {
        Command.Invocation inv = command.invocation();
        if (inv == null) {
            return invalid();
        }
        MSession s = sessions.get(inv.sessionId());
        if (s == null) {
            return expired();
        }
        if (inv.seq() <= 0 || inv.ackedBelow() < 0 || inv.ackedBelow() > inv.seq()) {
            return invalid();
        }
        if (inv.ackedBelow() > s.ackedBelow) {
            s.ackedBelow = inv.ackedBelow();
            s.replies.headMap(s.ackedBelow).clear();
        }
        if (inv.seq() < s.ackedBelow) {
            return invalid();
        }
        Reply remembered = s.replies.get(inv.seq());
        if (remembered != null) {
            return remembered;
        }
        Reply reply = fresh(command, s, events);
        if (reply == MALFORMED) {
            return reply; // refused before anything changed: nothing to remember
        }
        if (sessions.get(s.id) == s) {
            s.replies.put(inv.seq(), reply);
        }
        return reply;
    }

    private Reply fresh(Command.ClientCommand command, MSession s, List<Event> events) {
        if (command instanceof Command.Acquire c) {
            return acquire(c, s, events);
        }
        if (command instanceof Command.Release c) {
            return release(c, s, events);
        }
        if (command instanceof Command.Renew c) {
            return renew(c, s);
        }
        if (command instanceof Command.CancelWait c) {
            return cancel(c, s, events);
        }
        if (command instanceof RegisterSet c) {
            return setRegister(c);
        }
        if (command instanceof KeyDelete c) {
            return deleteKey(c);
        }
        if (command instanceof CounterAdd c) {
            return addCounter(c);
        }
        if (command instanceof Command.CloseSession) {
            endSession(s.id, false, events);
            return new Reply.Ok(0);
        }
        return invalid();
    }

    private Reply open(Command.OpenSession c) {
        String id = c.sessionId();
        if (id == null
                || id.length() < Limits.MIN_SESSION_ID
                || id.length() > Limits.MAX_SESSION_ID
                || !id.matches("[A-Za-z0-9_-]*")
                || c.clientName() == null
                || c.clientName().isEmpty()
                || c.clientName().length() > Limits.MAX_CLIENT_NAME
                || c.ttlMillis() < Limits.MIN_TTL_MILLIS
                || c.ttlMillis() > Limits.MAX_TTL_MILLIS
                || c.lockDelayMillis() < 0
                || c.lockDelayMillis() > Limits.MAX_LOCK_DELAY_MILLIS) {
            return invalid();
        }
        MSession existing = sessions.get(id);
        if (existing != null) {
            boolean same = existing.ttlMillis == c.ttlMillis()
                    && existing.lockDelayMillis == c.lockDelayMillis()
                    && existing.clientName.equals(c.clientName());
            return same ? new Reply.Ok(0) : invalid();
        }
        sessions.put(id, new MSession(id, c.clientName(), c.ttlMillis(), c.lockDelayMillis(), now));
        return new Reply.Ok(0);
    }

    private Reply acquire(Command.Acquire c, MSession s, List<Event> events) {
        LockMode mode = c.mode();
        if (!validName(c.name()) || mode == null) {
            return MALFORMED;
        }
        boolean semaphore = mode == LockMode.PERMITS;
        boolean sizesOk = semaphore
                ? c.maxPermits() >= 1
                        && c.maxPermits() <= Limits.MAX_PERMITS
                        && c.permits() >= 1
                        && c.permits() <= c.maxPermits()
                : c.permits() == 1 && c.maxPermits() == 1;
        boolean timesOk = c.waitMillis() >= 0
                && c.waitMillis() <= Limits.MAX_WAIT_MILLIS
                && (c.leaseMillis() == 0
                        || (c.leaseMillis() >= Limits.MIN_LEASE_MILLIS && c.leaseMillis() <= Limits.MAX_WAIT_MILLIS));
        if (!sizesOk || !timesOk) {
            return MALFORMED;
        }
        String name = c.name();
        MResource r = resources.get(name);
        if (r != null && (r.semaphore != semaphore || r.maxPermits != c.maxPermits())) {
            return invalid();
        }
        for (MWait w : waits) {
            if (w.session.equals(s.id) && w.owner == c.owner()) {
                return invalid(); // one wait per owner at a time
            }
        }
        if (r == null) {
            r = new MResource(name, semaphore, c.maxPermits());
            resources.put(name, r);
        }
        if (queueOf(name).isEmpty() && r.blockedUntil <= now && fits(r, mode, c.permits())) {
            MHold h = grant(s.id, name, c.owner(), mode, c.permits(), c.leaseMillis());
            return new Reply.Granted(h.token);
        }
        if (c.waitMillis() == 0) {
            dropIfIdle(name);
            return new Reply.Busy();
        }
        if (!semaphore && closesCycle(new Owner(s.id, c.owner()), name, mode)) {
            dropIfIdle(name);
            return Reply.Failed.of(ErrorCode.DEADLOCK, "model");
        }
        waits.add(new MWait(
                s.id,
                name,
                c.owner(),
                c.invocation().seq(),
                mode,
                c.permits(),
                now,
                now + c.waitMillis(),
                c.leaseMillis()));
        return new Reply.Queued();
    }

    private Reply release(Command.Release c, MSession s, List<Event> events) {
        if (!validName(c.name())) {
            return MALFORMED;
        }
        MHold h = holdOf(s.id, c.name(), c.token());
        if (h == null) {
            return Reply.Failed.of(ErrorCode.NOT_OWNER, "model");
        }
        holds.remove(h);
        serve(c.name(), events);
        dropIfIdle(c.name());
        return new Reply.Ok(0);
    }

    private Reply renew(Command.Renew c, MSession s) {
        if (!validName(c.name())) {
            return MALFORMED;
        }
        MHold h = holdOf(s.id, c.name(), c.token());
        if (h == null) {
            return Reply.Failed.of(ErrorCode.NOT_OWNER, "model");
        }
        if (h.leaseMillis == 0) {
            return new Reply.Ok(0);
        }
        if (h.leaseDeadline <= now) {
            return Reply.Failed.of(ErrorCode.NOT_OWNER, "model: lease already due");
        }
        h.leaseDeadline = now + h.leaseMillis;
        return new Reply.Ok(h.leaseDeadline);
    }

    private Reply cancel(Command.CancelWait c, MSession s, List<Event> events) {
        if (!validName(c.name())) {
            return MALFORMED;
        }
        for (MWait w : waits) {
            if (w.session.equals(s.id) && w.seq == c.waitSeq() && w.name.equals(c.name())) {
                waits.remove(w);
                s.replies.replace(w.seq, Reply.Failed.of(ErrorCode.TIMEOUT, "model"));
                serve(w.name, events);
                dropIfIdle(w.name);
                return new Reply.Ok(1);
            }
        }
        Reply outcome = s.replies.get(c.waitSeq());
        if (outcome == null
                && c.waitSeq() >= s.ackedBelow
                && c.waitSeq() < c.invocation().seq()) {
            s.replies.put(c.waitSeq(), Reply.Failed.of(ErrorCode.TIMEOUT, "model")); // the acquire may come later
        }
        return outcome instanceof Reply.Granted ? outcome : new Reply.Ok(0);
    }

    private Reply revoke(Command.Revoke c, List<Event> events) {
        if (!validName(c.name())) {
            return invalid();
        }
        if (!resources.containsKey(c.name())) {
            return new Reply.Ok(0);
        }
        List<MHold> taken = holdsOn(c.name());
        for (MHold h : taken) {
            holds.remove(h);
            events.add(new Event.Lost(h.session, h.name, h.token, Event.Reason.REVOKED));
        }
        serve(c.name(), events);
        dropIfIdle(c.name());
        return new Reply.Ok(taken.size());
    }

    private Reply setRegister(RegisterSet c) {
        if (!validName(c.key())
                || c.value() == null
                || c.value().length > Limits.MAX_VALUE_BYTES
                || c.expectedVersion() < 0) {
            return MALFORMED;
        }
        MRegister current = registers.get(c.key());
        long version = current == null ? 0 : current.version;
        if (c.fenceName() != null) {
            if (!validName(c.fenceName())) {
                return MALFORMED;
            }
            boolean held = holds.stream()
                    .anyMatch(h -> h.name.equals(c.fenceName())
                            && h.token == c.fenceToken()
                            && (!c.ownFence() || h.session.equals(c.invocation().sessionId())));
            if (!held) {
                return new Reply.Failed(ErrorCode.CONFLICT, "model", List.of(), version);
            }
        }
        if (version != c.expectedVersion()) {
            return new Reply.Failed(ErrorCode.CONFLICT, "model", List.of(), version);
        }
        if (c.ttlMillis() != 0) {
            return invalid(); // the scripts give no key a time to live
        }
        registers.put(
                c.key(),
                new MRegister(
                        version + 1,
                        c.value().clone(),
                        c.attach() ? c.invocation().sessionId() : null));
        return new Reply.Written(version + 1);
    }

    private Reply deleteKey(KeyDelete c) {
        if (!validName(c.key()) || (c.expectedVersion() < 0 && c.expectedVersion() != KeyDelete.ANY_VERSION)) {
            return MALFORMED;
        }
        MRegister current = registers.get(c.key());
        long version = current == null ? 0 : current.version;
        if (c.expectedVersion() != KeyDelete.ANY_VERSION && c.expectedVersion() != version) {
            return new Reply.Failed(ErrorCode.CONFLICT, "model", List.of(), version);
        }
        registers.remove(c.key());
        return new Reply.Ok(version);
    }

    private Reply addCounter(CounterAdd c) {
        if (!validName(c.key())) {
            return MALFORMED;
        }
        MRegister current = registers.get(c.key());
        if (current != null && current.value.length != 8) {
            return new Reply.Failed(ErrorCode.INVALID_ARGUMENT, "model", List.of(), current.version);
        }
        long sum =
                (current == null ? 0 : java.nio.ByteBuffer.wrap(current.value).getLong()) + c.delta();
        long version = current == null ? 1 : current.version + 1;
        byte[] value = java.nio.ByteBuffer.allocate(8).putLong(sum).array();
        registers.put(c.key(), new MRegister(version, value, current == null ? null : current.owner));
        return new Reply.Counted(sum, version);
    }

    /** Ends a session: drops its holds (told if it expired, lock-delay applies) and its waits. */
    private void endSession(String id, boolean expired, List<Event> events) {
        long lockDelay = sessions.remove(id).lockDelayMillis;
        registers.values().removeIf(r -> id.equals(r.owner));
        Set<String> touched = new TreeSet<>();
        for (MHold h : new ArrayList<>(holds)) {
            if (!h.session.equals(id)) {
                continue;
            }
            holds.remove(h);
            touched.add(h.name);
            if (expired) {
                events.add(new Event.Lost(id, h.name, h.token, Event.Reason.SESSION_EXPIRED));
                MResource r = resources.get(h.name);
                if (lockDelay > 0 && r.blockedUntil < now + lockDelay) {
                    r.blockedUntil = now + lockDelay;
                    r.delayPending = true;
                }
            }
        }
        for (MWait w : new ArrayList<>(waits)) {
            if (w.session.equals(id)) {
                waits.remove(w);
                touched.add(w.name);
            }
        }
        if (expired) {
            events.add(new Event.SessionExpired(id));
        }
        for (String name : touched) {
            serve(name, events);
            dropIfIdle(name);
        }
    }

    // ------------------------------------------------------------------------------- time

    private void tick(List<Event> events) {
        for (Due due = earliestDeadline(true); due != null; due = earliestDeadline(true)) {
            if (due.target instanceof MHold h) {
                holds.remove(h);
                events.add(new Event.Lost(h.session, h.name, h.token, Event.Reason.LEASE_TIMEOUT));
                serve(h.name, events);
                dropIfIdle(h.name);
            } else if (due.target instanceof MWait w) {
                boolean wasHead = queueOf(w.name).get(0) == w;
                timeOut(w, events);
                if (wasHead) {
                    serve(w.name, events);
                }
                dropIfIdle(w.name);
            } else {
                MResource r = (MResource) due.target;
                r.delayPending = false;
                serve(r.name, events);
                dropIfIdle(r.name);
            }
        }
    }

    /** The earliest deadline (only those due now if {@code dueOnly}), by a scan of everything. */
    private Due earliestDeadline(boolean dueOnly) {
        List<Due> all = new ArrayList<>();
        for (MHold h : holds) {
            if (h.leaseMillis != 0) {
                all.add(new Due(h.leaseDeadline, 0, h.name, h.token, h));
            }
        }
        for (MWait w : waits) {
            all.add(new Due(w.deadline, 1, w.session, w.seq, w));
        }
        for (MResource r : resources.values()) {
            if (r.delayPending) {
                all.add(new Due(r.blockedUntil, 2, r.name, 0, r));
            }
        }
        return all.stream().filter(d -> !dueOnly || d.at <= now).min(DUE_ORDER).orElse(null);
    }

    /** When a tick next has something to do, or {@link Long#MAX_VALUE}. */
    long nextDeadline() {
        Due due = earliestDeadline(false);
        return due == null ? Long.MAX_VALUE : due.at;
    }

    // ------------------------------------------------------------------------------- queues

    /** Grants from the head of the queue while the head fits; an expired head times out instead. */
    private void serve(String name, List<Event> events) {
        MResource r = resources.get(name);
        while (!queueOf(name).isEmpty() && r.blockedUntil <= now) {
            MWait head = queueOf(name).get(0);
            if (head.deadline <= now) {
                timeOut(head, events);
                continue;
            }
            if (!fits(r, head.mode, head.permits)) {
                return;
            }
            waits.remove(head);
            MHold h = grant(head.session, name, head.owner, head.mode, head.permits, head.leaseMillis);
            sessions.get(head.session).replies.replace(head.seq, new Reply.Granted(h.token));
            events.add(new Event.Granted(head.session, head.seq, name, h.token));
        }
    }

    private void timeOut(MWait w, List<Event> events) {
        waits.remove(w);
        sessions.get(w.session).replies.replace(w.seq, Reply.Failed.of(ErrorCode.TIMEOUT, "model"));
        events.add(new Event.WaitTimedOut(w.session, w.seq, w.name));
    }

    private MHold grant(String session, String name, long owner, LockMode mode, int permits, long lease) {
        MHold h = new MHold(session, name, owner, ++lastToken, mode, permits, now, lease);
        holds.add(h);
        return h;
    }

    private boolean fits(MResource r, LockMode mode, int permits) {
        List<MHold> on = holdsOn(r.name);
        return switch (mode) {
            case EXCLUSIVE -> on.isEmpty();
            case SHARED -> on.stream().noneMatch(h -> h.mode == LockMode.EXCLUSIVE);
            case PERMITS -> on.stream().mapToInt(h -> h.permits).sum() + permits <= r.maxPermits;
        };
    }

    private void dropIfIdle(String name) {
        MResource r = resources.get(name);
        if (r != null && holdsOn(name).isEmpty() && queueOf(name).isEmpty() && r.blockedUntil <= now) {
            resources.remove(name);
        }
    }

    /**
     * Whether {@code me} waiting for {@code name} in {@code mode} closes a cycle: an owner waits for
     * the holders of the lock it waits for whose mode conflicts with its own (readers do not wait
     * for readers) and for every waiter ahead of it; semaphore waits are not edges.
     */
    private boolean closesCycle(Owner me, String name, LockMode mode) {
        Deque<Owner> todo = new ArrayDeque<>(blockers(name, mode, null));
        Set<Owner> seen = new HashSet<>();
        while (!todo.isEmpty()) {
            Owner o = todo.pop();
            if (o.equals(me)) {
                return true;
            }
            if (seen.add(o)) {
                for (MWait w : waits) {
                    if (w.session.equals(o.session) && w.owner == o.owner && w.mode != LockMode.PERMITS) {
                        todo.addAll(blockers(w.name, w.mode, w));
                    }
                }
            }
        }
        return false;
    }

    private List<Owner> blockers(String name, LockMode mode, MWait self) {
        List<Owner> out = new ArrayList<>();
        for (MHold h : holdsOn(name)) {
            if (mode == LockMode.EXCLUSIVE || h.mode == LockMode.EXCLUSIVE) {
                out.add(new Owner(h.session, h.owner));
            }
        }
        for (MWait w : queueOf(name)) {
            if (w == self) {
                break;
            }
            out.add(new Owner(w.session, w.owner));
        }
        return out;
    }

    private List<MHold> holdsOn(String name) {
        return holds.stream().filter(h -> h.name.equals(name)).toList();
    }

    private List<MWait> queueOf(String name) {
        return waits.stream().filter(w -> w.name.equals(name)).toList();
    }

    private MHold holdOf(String session, String name, long token) {
        for (MHold h : holds) {
            if (h.session.equals(session) && h.name.equals(name) && h.token == token) {
                return h;
            }
        }
        return null;
    }

    private static boolean validName(String name) {
        try {
            Names.check(name);
            return true;
        } catch (InvalidArgumentException e) {
            return false;
        }
    }

    /** A refusal of malformed input: not remembered (a retry is refused the same way). */
    private static final Reply MALFORMED = Reply.Failed.of(ErrorCode.INVALID_ARGUMENT, "model: malformed");

    private static Reply invalid() {
        return Reply.Failed.of(ErrorCode.INVALID_ARGUMENT, "model");
    }

    private static Reply expired() {
        return Reply.Failed.of(ErrorCode.SESSION_EXPIRED, "model");
    }

    // ------------------------------------------------------------------------------- view

    ModelView view() {
        List<ModelView.VRes> res = new ArrayList<>();
        for (MResource r : resources.values()) {
            List<ModelView.VHold> hs = new ArrayList<>();
            for (MHold h : holdsOn(r.name)) {
                hs.add(new ModelView.VHold(
                        h.session, h.owner, h.token, h.mode, h.permits, h.grantedAt, h.leaseMillis, h.leaseDeadline));
            }
            List<ModelView.VWait> q = new ArrayList<>();
            for (MWait w : queueOf(r.name)) {
                q.add(new ModelView.VWait(
                        w.session, w.owner, w.seq, w.mode, w.permits, w.enqueuedAt, w.deadline, w.leaseMillis));
            }
            res.add(new ModelView.VRes(r.name, r.semaphore, r.maxPermits, r.blockedUntil, hs, q));
        }
        List<ModelView.VSession> ss = new ArrayList<>();
        for (MSession s : sessions.values()) {
            Map<Long, String> replies = new TreeMap<>();
            s.replies.forEach((seq, reply) -> replies.put(seq, ModelView.norm(reply)));
            ss.add(new ModelView.VSession(
                    s.id, s.clientName, s.ttlMillis, s.lockDelayMillis, s.openedAt, s.ackedBelow, replies));
        }
        List<ModelView.VRegister> regs = new ArrayList<>();
        registers.forEach((k, v) ->
                regs.add(new ModelView.VRegister(k, v.version, HexFormat.of().formatHex(v.value), v.owner)));
        return new ModelView(now, lastToken, res, ss, regs);
    }
}
