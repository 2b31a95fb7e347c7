package io.holdfast.core;

import io.holdfast.ErrorCode;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockMode;
import io.holdfast.Names;
import io.holdfast.core.WaitForGraph.OwnerKey;
import io.holdfast.model.Command.Acquire;
import io.holdfast.model.Command.AcquireAll;
import io.holdfast.model.Reply;
import io.holdfast.model.Reply.Failed;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntSupplier;

/**
 * The acquire commands of {@link LockTable}: one lock or semaphore ({@link Acquire}) and a
 * multi-lock ({@link AcquireAll}). Each is granted at once, answered busy, refused, or queued, in
 * that order of checks: input, one wait per owner, reentrancy, the quotas, a free lock, the wait
 * time, the waiting quotas, and last deadlock detection.
 *
 * <p>Guarantees: malformed input throws {@link InvalidArgumentException} before anything changes;
 * a refusal or a busy answer leaves the table as it was (a lock made only for the request is
 * dropped again); a request never barges ahead of a queued one; a multi-lock is granted every
 * name in one step or queued as one wait. It does not check access rules (the table does that
 * first) and does not remember replies (the table does, by invocation).
 */
final class Acquisitions {
    private final Queues queues;
    private final Admission admission;
    private final IntSupplier stateEntries;

    /**
     * @param stateEntries the sessions, locks and registers the table holds now
     */
    Acquisitions(Queues queues, Admission admission, IntSupplier stateEntries) {
        this.queues = queues;
        this.admission = admission;
        this.stateEntries = stateEntries;
    }

    Reply acquire(Acquire c, Session session) {
        String name = Names.check(c.name());
        LockMode mode = c.mode();
        if (mode == null) {
            throw new InvalidArgumentException("mode must not be null");
        }
        boolean semaphore = mode == LockMode.PERMITS;
        if (semaphore) {
            Limits.checkRange("semaphore size", c.maxPermits(), 1, Limits.MAX_PERMITS);
            Limits.checkRange("permits", c.permits(), 1, c.maxPermits());
        } else if (c.permits() != 1 || c.maxPermits() != 1) {
            throw new InvalidArgumentException("a lock is acquired with 1 permit of 1");
        }
        checkTimes(c.waitMillis(), c.leaseMillis());
        Resource r = queues.get(name);
        if (r != null && (r.semaphore != semaphore || r.maxPermits != c.maxPermits())) {
            return Failed.of(
                    ErrorCode.INVALID_ARGUMENT,
                    r.semaphore
                            ? name + " is a semaphore with " + r.maxPermits + " permits"
                                    + (semaphore ? ", not " + c.maxPermits() : ", not a lock")
                            : name + " is a lock, not a semaphore");
        }
        Failed waiting = oneWaitPerOwner(session, c.owner());
        if (waiting != null) {
            return waiting;
        }
        Quotas q = admission.quotas();
        if (r == null) {
            int entries = stateEntries.getAsInt();
            if (entries >= q.stateEntries()) {
                return admission.stateEntriesExceeded(entries);
            }
            r = queues.create(name, semaphore, c.maxPermits());
        }
        Reply answer = grantOrQueue(c, session, r, q);
        if (!(answer instanceof Reply.Granted) && !(answer instanceof Reply.Queued)) {
            queues.dropIfIdle(r);
        }
        return answer;
    }

    /** The part of {@link #acquire} after the lock is known: grant, busy, a refusal, or queued. */
    private Reply grantOrQueue(Acquire c, Session session, Resource r, Quotas q) {
        LockMode mode = c.mode();
        if (session.holdCount >= q.holdsPerSession()) {
            return admission.quotaExceeded(
                    Admission.HOLDS_PER_SESSION, "session " + session.id() + " holds " + session.holdCount + " grants");
        }
        if (queues.free(r, mode, c.permits())) {
            Hold h = queues.grant(session, r, c.owner(), mode, c.permits(), c.leaseMillis());
            return new Reply.Granted(h.token);
        }
        if (c.waitMillis() == 0) {
            return Reply.Busy.INSTANCE;
        }
        if (session.waitCount >= q.waitsPerSession()) {
            return admission.quotaExceeded(
                    Admission.WAITS_PER_SESSION,
                    "session " + session.id() + " waits for " + session.waitCount + " grants");
        }
        if (r.waiterCount >= q.waitersPerLock()) {
            return admission.quotaExceeded(Admission.WAITERS_PER_LOCK, r.name + " has " + r.waiterCount + " waiters");
        }
        if (mode != LockMode.PERMITS) {
            List<String> cycle = queues.findCycle(new OwnerKey(session.id(), c.owner()), List.of(r), mode);
            if (cycle != null) {
                return new Failed(
                        ErrorCode.DEADLOCK,
                        "waiting for " + r.name + " would deadlock: " + String.join(" -> ", cycle) + " -> " + r.name,
                        cycle,
                        -1);
            }
        }
        queues.enqueue(waiter(
                session, r, c.owner(), c.invocation().seq(), mode, c.permits(), c.waitMillis(), c.leaseMillis()));
        return Reply.Queued.INSTANCE;
    }

    /**
     * A multi-lock: every name granted in this step, or one wait with a place in each name's queue.
     * Everything is checked before anything changes, so a refusal leaves the table as it was.
     */
    Reply acquireAll(AcquireAll c, Session session) {
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
        checkTimes(c.waitMillis(), c.leaseMillis());
        Failed waiting = oneWaitPerOwner(session, c.owner());
        if (waiting != null) {
            return waiting;
        }
        List<Resource> existing = new ArrayList<>(names.size());
        boolean free = true;
        for (String name : names) {
            Resource r = queues.get(name);
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
            free &= queues.free(r, mode, 1);
        }
        Quotas q = admission.quotas();
        int created = names.size() - existing.size();
        int entries = stateEntries.getAsInt();
        if (entries + created > q.stateEntries()) {
            return admission.quotaExceeded(
                    Admission.STATE_ENTRIES,
                    "the table holds " + entries + " sessions, locks and registers, and " + created
                            + " more are asked for");
        }
        if (session.holdCount + names.size() > q.holdsPerSession()) {
            return admission.quotaExceeded(
                    Admission.HOLDS_PER_SESSION,
                    "session " + session.id() + " holds " + session.holdCount + " grants, and " + names.size()
                            + " more are asked for");
        }
        if (free) {
            List<Long> tokens = new ArrayList<>(names.size());
            for (String name : names) {
                tokens.add(queues.grant(session, queues.lock(name), c.owner(), mode, 1, c.leaseMillis()).token);
            }
            return new Reply.GrantedAll(tokens);
        }
        if (c.waitMillis() == 0) {
            return Reply.Busy.INSTANCE;
        }
        if (session.waitCount + names.size() > q.waitsPerSession()) {
            return admission.quotaExceeded(
                    Admission.WAITS_PER_SESSION,
                    "session " + session.id() + " waits for " + session.waitCount + " grants, and " + names.size()
                            + " more are asked for");
        }
        for (Resource r : existing) {
            if (r.waiterCount >= q.waitersPerLock()) {
                return admission.quotaExceeded(
                        Admission.WAITERS_PER_LOCK, r.name + " has " + r.waiterCount + " waiters");
            }
        }
        List<String> cycle = queues.findCycle(new OwnerKey(session.id(), c.owner()), existing, mode);
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
            group[i] = waiter(
                    session,
                    queues.lock(names.get(i)),
                    c.owner(),
                    c.invocation().seq(),
                    mode,
                    1,
                    c.waitMillis(),
                    c.leaseMillis());
        }
        queues.enqueueGroup(group);
        return Reply.Queued.INSTANCE;
    }

    private Waiter waiter(
            Session session,
            Resource r,
            long owner,
            long seq,
            LockMode mode,
            int permits,
            long waitMillis,
            long leaseMillis) {
        long now = queues.now();
        return new Waiter(session, r, owner, seq, mode, permits, now, now + waitMillis, leaseMillis);
    }

    /** The refusal of a second wait by one owner, or null if the owner does not wait yet. */
    private static Failed oneWaitPerOwner(Session session, long owner) {
        Waiter waiting = session.findWaitOfOwner(owner);
        if (waiting == null) {
            return null;
        }
        return Failed.of(
                ErrorCode.INVALID_ARGUMENT,
                "owner " + owner + " already waits for " + waiting.resource.name + "; one wait per owner at a time");
    }

    private static void checkTimes(long waitMillis, long leaseMillis) {
        Limits.checkRange("wait", waitMillis, 0, Limits.MAX_WAIT_MILLIS);
        if (leaseMillis != 0) {
            Limits.checkRange("lease timeout", leaseMillis, Limits.MIN_LEASE_MILLIS, Limits.MAX_WAIT_MILLIS);
        }
    }
}
