package io.holdfast.core;

import io.holdfast.ErrorCode;
import io.holdfast.LockMode;
import io.holdfast.WatchEvent;
import io.holdfast.core.WaitForGraph.OwnerKey;
import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.Reply;
import io.holdfast.model.Reply.Failed;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The locks and semaphores of {@link LockTable} with their holders and FIFO wait queues, the
 * table's clock and its fencing-token counter, and the derived indexes that go with them (the
 * deadline {@link Timers} and the {@link WaitForGraph}). It is the one place that grants: every
 * grant takes the next token, every waiter leaves its queue through {@link #detach(Waiter, WatchEvent.Cause)}, and
 * every queue that may move is worked through {@link #grantWaiters}.
 *
 * <p>Guarantees: a queue never lets a waiter barge ahead of an earlier one; a multi-lock is
 * granted in one step, every name at once, or keeps its place in every queue; queues that move
 * because of one another are worked in the order they were reached, which is the same on every
 * replica; a lock that nobody holds, waits for or delays is dropped. It does not validate
 * commands, check access or quotas, or remember replies beyond updating a queued acquire's
 * remembered outcome when it is decided (see {@link Acquisitions} and {@link Releases}).
 */
final class Queues {
    private final Map<String, Resource> resources = new HashMap<>();
    private final WaitForGraph waitsFor = new WaitForGraph();
    private final Timers timers = new Timers();
    private final Set<PlantedBug> bugs;

    /**
     * Where the changes to holders and queues go while a command is applied ({@link
     * LockTable#apply(Command.Envelope, EventSink, java.util.function.Consumer)}); null when nobody
     * records them.
     */
    java.util.function.Consumer<WatchEvent> changes;
    /** Told the name of a lock dropped as idle (no holder, waiter or delay): its election's record goes. */
    java.util.function.Consumer<String> idle = name -> {};

    private long now;
    private long lastToken;
    /** The Raft term of the entry being applied; read only by the planted bug TOKEN_FROM_TERM. */
    private long term;

    Queues(Set<PlantedBug> bugs) {
        this.bugs = bugs;
    }

    // ---------------------------------------------------------------------------------- clock

    /** The table's clock: the largest command time applied so far. */
    long now() {
        return now;
    }

    /** Moves the clock to {@code time} if that is later; it never goes back. */
    void advance(long time) {
        if (time > now) {
            now = time;
        }
    }

    long lastToken() {
        return lastToken;
    }

    void setTerm(long term) {
        this.term = term;
    }

    void restoreClock(long now, long lastToken) {
        this.now = now;
        this.lastToken = lastToken;
    }

    /** The earliest time a tick has something to do, or {@link Long#MAX_VALUE}. */
    long nextDeadline() {
        return timers.next();
    }

    /** Removes and returns the earliest deadline due by the clock, or null. */
    Timers.Entry pollDue() {
        return timers.pollDue(now);
    }

    // ---------------------------------------------------------------------------------- locks

    Map<String, Resource> map() {
        return resources;
    }

    Resource get(String name) {
        return resources.get(name);
    }

    int size() {
        return resources.size();
    }

    boolean isCurrentHolder(String name, long token) {
        return holderOf(name, token) != null;
    }

    /** The id of the session holding the current grant of {@code name} with {@code token}, or null. */
    String holderOf(String name, long token) {
        Resource r = resources.get(name);
        Hold h = r == null ? null : r.findHolderByToken(token);
        return h == null ? null : h.session.id();
    }

    /** A new lock or semaphore of this name (its quota was checked by the caller). */
    Resource create(String name, boolean semaphore, int maxPermits) {
        Resource r = new Resource(name, semaphore, maxPermits);
        resources.put(name, r);
        return r;
    }

    /** The lock of this name, made if it does not exist (its quota was checked by the caller). */
    Resource lock(String name) {
        return resources.computeIfAbsent(name, n -> new Resource(n, false, 1));
    }

    /** Whether a new request for {@code mode} and {@code permits} could be granted now. */
    boolean free(Resource r, LockMode mode, int permits) {
        return r.queueHead == null && r.blockedUntil <= now && r.compatible(mode, permits);
    }

    void dropIfIdle(Resource r) {
        if (r.isIdle(now) && resources.get(r.name) == r) {
            resources.remove(r.name);
            idle.accept(r.name);
        }
    }

    /** Keeps {@code r} ungrantable until {@code until} at least (lock-delay). */
    void block(Resource r, long until) {
        if (r.blockedUntil < until) {
            r.blockedUntil = until;
            timers.unblock(r);
        }
    }

    /** A lock-delay that ended: forgets it, and grants what it held back. */
    void unblock(Resource r, EventSink events) {
        if (resources.get(r.name) == r) {
            // Handled: a snapshot must not carry it, or a replica restored from that
            // snapshot would run it again at its next tick, in another order.
            r.blockedUntil = 0;
            grantWaiters(r, events);
            dropIfIdle(r);
        }
    }

    // ---------------------------------------------------------------------------------- grants and waits

    Hold grant(Session session, Resource r, long owner, LockMode mode, int permits, long leaseMillis) {
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
        if (changes != null) {
            changes.accept(WatchEvent.acquired(r.name, session.id(), token, mode));
        }
        return h;
    }

    /** Starts a new lease period for a hold: {@code leaseMillis} from now. */
    void renew(Hold h) {
        h.leaseDeadline = now + h.leaseMillis;
        timers.lease(h);
    }

    /** The names of the cycle a new wait by {@code me} would close, or null; see {@link WaitForGraph}. */
    List<String> findCycle(OwnerKey me, List<Resource> wanted, LockMode mode) {
        return waitsFor.findCycle(me, wanted, mode);
    }

    private void queued(Waiter w) {
        if (changes != null) {
            changes.accept(WatchEvent.queued(w.resource.name, w.session.id(), w.mode));
        }
    }

    /** Queues one waiter at the end of its lock's queue. */
    void enqueue(Waiter w) {
        queued(w);
        w.resource.enqueue(w);
        w.session.addWait(w);
        waitsFor.add(w);
        timers.wait(w);
    }

    /** Queues the members of a multi-lock, each at the end of its lock's queue, as one wait. */
    void enqueueGroup(Waiter[] group) {
        for (Waiter m : group) {
            m.group = group;
            queued(m);
            m.resource.enqueue(m);
            m.session.addWait(m);
        }
        waitsFor.add(group[0]);
        timers.wait(group[0]);
    }

    /**
     * Grants waiters from the head of the queue while they fit; expires those past deadline. A
     * multi-lock that leaves its queues (granted or timed out) lets the other queues it stood in
     * move too: they are worked through the same way, in the order they were reached, which is
     * the same on every replica.
     */
    void grantWaiters(Resource r, EventSink events) {
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
            detach(w, null);
            Hold h = grant(w.session, r, w.owner, w.mode, w.permits, w.leaseMillis);
            w.session.updateRemembered(w.seq, new Reply.Granted(h.token));
            events.accept(new Event.Granted(w.session.id(), w.seq, r.name, h.token));
        }
        return more;
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
            detach(m, null);
            tokens.add(grant(m.session, m.resource, m.owner, m.mode, 1, m.leaseMillis).token);
        }
        Waiter first = group[0];
        first.session.updateRemembered(first.seq, new Reply.GrantedAll(tokens));
        for (int i = 0; i < group.length; i++) {
            events.accept(new Event.Granted(first.session.id(), first.seq, group[i].resource.name, tokens.get(i)));
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
    static String names(Waiter w) {
        if (w.group == null) {
            return w.resource.name;
        }
        StringBuilder b = new StringBuilder();
        for (Waiter m : w.group) {
            b.append(b.length() == 0 ? "" : ", ").append(m.resource.name);
        }
        return b.toString();
    }

    /** Ends a wait at its deadline (all members of a multi-lock); returns their other queues. */
    ArrayDeque<Resource> timeOut(Waiter w, EventSink events, ArrayDeque<Resource> more) {
        Waiter first = w.group == null ? w : w.group[0];
        detachWait(w, WatchEvent.Cause.TIMED_OUT);
        first.session.updateRemembered(first.seq, Failed.of(ErrorCode.TIMEOUT, "timed out waiting for " + names(w)));
        events.accept(new Event.WaitTimedOut(first.session.id(), first.seq, first.resource.name));
        return w.group == null ? more : others(w.group, w.resource, more);
    }

    /** After a wait left its queues: lets each of them move, in name order, and drops idle locks. */
    void settleQueues(Waiter w, EventSink events) {
        Waiter[] members = w.group == null ? new Waiter[] {w} : w.group;
        for (Waiter m : members) {
            grantWaiters(m.resource, events);
        }
        for (Waiter m : members) {
            dropIfIdle(m.resource);
        }
    }

    /** Takes a wait off its queue: every member of a multi-lock's wait. */
    void detachWait(Waiter w, WatchEvent.Cause cause) {
        if (w.group == null) {
            detach(w, cause);
        } else {
            for (Waiter m : w.group) {
                detach(m, cause);
            }
        }
    }

    /**
     * Takes one waiter off its queue and its session's list (one member of a multi-lock): {@code
     * cause} says why its wait ended, null when it is being granted.
     */
    void detach(Waiter w, WatchEvent.Cause cause) {
        if (changes != null && cause != null) {
            changes.accept(WatchEvent.waitEnded(w.resource.name, w.session.id(), w.mode, cause));
        }
        w.attached = false;
        w.resource.dequeue(w);
        w.session.removeWait(w);
        waitsFor.remove(w);
    }

    /** Takes a grant away: {@code cause} says why. */
    void detach(Hold h, WatchEvent.Cause cause) {
        if (changes != null) {
            changes.accept(WatchEvent.released(h.resource.name, h.session.id(), h.token, h.mode, cause));
        }
        h.attached = false;
        h.resource.removeHolder(h);
        h.session.removeHold(h);
    }

    // ---------------------------------------------------------------------------------- restore

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
}
