package io.holdfast.core;

import io.holdfast.ErrorCode;
import io.holdfast.Names;
import io.holdfast.WatchEvent;
import io.holdfast.model.Command;
import io.holdfast.model.Command.CancelWait;
import io.holdfast.model.Command.Release;
import io.holdfast.model.Command.Renew;
import io.holdfast.model.Command.Revoke;
import io.holdfast.model.Event;
import io.holdfast.model.Reply;
import io.holdfast.model.Reply.Failed;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * Everything in {@link LockTable} that gives grants and waits back or keeps them: release, renew,
 * cancel a wait, admin revoke, the deadlines a {@link Command.Tick} passes (lease timeouts, wait
 * timeouts, ended lock-delays), and the end of a session. Each hands what it frees to the next
 * waiters in the same step ({@link Queues#grantWaiters}).
 *
 * <p>Guarantees: only the holder's own session releases or renews a grant (a renewal that comes
 * after its lease ran out is refused, so the outcome does not depend on whether the renew or the
 * tick came first); a cancelled wait leaves every queue it stood in; a holder that loses a grant
 * (revoke, lease timeout, expired session) gets a {@link Event.Lost}; freed locks are granted in
 * name order, the same on every replica. It does not remember replies beyond a queued acquire's
 * outcome, and does not check access rules (the table does, for revoke).
 */
final class Releases {
    private final Queues queues;
    private final Set<PlantedBug> bugs;

    Releases(Queues queues, Set<PlantedBug> bugs) {
        this.queues = queues;
        this.bugs = bugs;
    }

    Reply release(Release c, Session session, EventSink events) {
        Resource r = queues.get(Names.check(c.name()));
        Hold h = r == null ? null : r.findHolder(session, c.token());
        if (h == null && r != null && bugs.contains(PlantedBug.RELEASE_BY_ANYONE)) {
            // PLANTED BUG (verification only): release-by-anyone: the holder with that token, or
            // else the first holder, is released whoever asks.
            h = r.findHolderByToken(c.token()) != null ? r.findHolderByToken(c.token()) : r.holdersHead;
        }
        if (h == null) {
            return notOwner(session, c.name(), c.token());
        }
        queues.detach(h, WatchEvent.Cause.RELEASED);
        // PLANTED BUG (verification only): skipped-wakeup: the freed lock is not handed to its
        // head waiter (it waits until its deadline or some later event).
        if (!bugs.contains(PlantedBug.SKIPPED_WAKEUP)) {
            queues.grantWaiters(r, events);
        }
        queues.dropIfIdle(r);
        return Reply.Ok.INSTANCE;
    }

    Reply renew(Renew c, Session session) {
        Resource r = queues.get(Names.check(c.name()));
        Hold h = r == null ? null : r.findHolder(session, c.token());
        if (h == null) {
            return notOwner(session, c.name(), c.token());
        }
        if (h.leaseMillis == 0) {
            return new Reply.Ok(0);
        }
        if (h.leaseDeadline <= queues.now()) {
            // Due already: the next Tick takes it back. Renewing it here would make the outcome
            // depend on whether the renew or the Tick reached the log first.
            return Failed.of(
                    ErrorCode.NOT_OWNER,
                    "the lease of " + c.name() + " (token " + c.token() + ") ran out before this renewal");
        }
        queues.renew(h);
        return new Reply.Ok(h.leaseDeadline);
    }

    private static Failed notOwner(Session session, String name, long token) {
        return Failed.of(
                ErrorCode.NOT_OWNER, "session " + session.id() + " does not hold " + name + " with token " + token);
    }

    Reply cancelWait(CancelWait c, Session session, EventSink events) {
        Names.check(c.name());
        Waiter w = session.findWait(c.waitSeq());
        Waiter first = w == null || w.group == null ? w : w.group[0];
        if (first != null && first.resource.name.equals(c.name())) {
            queues.detachWait(w, WatchEvent.Cause.CANCELLED);
            session.updateRemembered(
                    w.seq, Failed.of(ErrorCode.TIMEOUT, "wait for " + Queues.names(w) + " was cancelled"));
            queues.settleQueues(w, events);
            return new Reply.Ok(1);
        }
        // Already decided: tell the caller how (a grant it must now release, or a timeout).
        Reply outcome = session.cachedReply(c.waitSeq());
        if (outcome == null
                && c.waitSeq() >= session.ackedBelow
                && c.waitSeq() < c.invocation().seq()) {
            // Not seen yet: the acquire may still be on its way (a retry in flight). The cancellation
            // answers it, so that it cannot queue after this, be granted, and stay held by a live
            // session whose client gave up on it (found by the soak: scenario one-way).
            session.remember(c.waitSeq(), Failed.of(ErrorCode.TIMEOUT, "wait " + c.waitSeq() + " was cancelled"));
        }
        return outcome instanceof Reply.Granted || outcome instanceof Reply.GrantedAll ? outcome : new Reply.Ok(0);
    }

    /** Takes every grant of the name away (the caller checked the permission). */
    Reply revoke(Revoke c, EventSink events) {
        Resource r = queues.get(Names.check(c.name()));
        if (r == null) {
            return new Reply.Ok(0);
        }
        int revoked = 0;
        for (Hold h = r.holdersHead; h != null; ) {
            Hold next = h.rNext;
            queues.detach(h, WatchEvent.Cause.REVOKED);
            events.accept(new Event.Lost(h.session.id(), r.name, h.token, Event.Reason.REVOKED));
            revoked++;
            h = next;
        }
        queues.grantWaiters(r, events);
        queues.dropIfIdle(r);
        return new Reply.Ok(revoked);
    }

    /** Runs every deadline that is due by the clock, earliest first. */
    void tick(EventSink events) {
        Timers.Entry e;
        while ((e = queues.pollDue()) != null) {
            switch (e.kind()) {
                case Timers.LEASE -> {
                    Hold h = (Hold) e.target();
                    queues.detach(h, WatchEvent.Cause.LEASE_TIMEOUT);
                    events.accept(new Event.Lost(h.session.id(), h.resource.name, h.token, Event.Reason.LEASE_TIMEOUT));
                    queues.grantWaiters(h.resource, events);
                    queues.dropIfIdle(h.resource);
                }
                case Timers.WAIT -> {
                    Waiter w = (Waiter) e.target();
                    Resource r = w.resource;
                    if (w.group != null) {
                        queues.timeOut(w, events, null);
                        queues.settleQueues(w, events);
                    } else {
                        boolean wasHead = r.queueHead == w;
                        queues.timeOut(w, events, null);
                        if (wasHead) {
                            queues.grantWaiters(r, events);
                        }
                        queues.dropIfIdle(r);
                    }
                }
                default -> queues.unblock((Resource) e.target(), events);
            }
        }
    }

    /**
     * Gives back what an ending session has: releases its holds (lost, and lock-delayed, if it
     * expired), cancels its waits unless {@code keepWaits}, and grants what that frees.
     */
    void endSession(Session s, boolean expired, boolean keepWaits, EventSink events) {
        long now = queues.now();
        List<Resource> touched = new ArrayList<>();
        WatchEvent.Cause cause = expired ? WatchEvent.Cause.SESSION_EXPIRED : WatchEvent.Cause.SESSION_CLOSED;
        for (Hold h = s.holdsHead; h != null; ) {
            Hold next = h.sNext;
            queues.detach(h, cause);
            Resource r = h.resource;
            if (expired) {
                events.accept(new Event.Lost(s.id(), r.name, h.token, Event.Reason.SESSION_EXPIRED));
                if (s.lockDelayMillis > 0) {
                    queues.block(r, now + s.lockDelayMillis);
                }
            }
            touched.add(r);
            h = next;
        }
        for (Waiter w = keepWaits ? null : s.waitsHead; w != null; ) {
            Waiter next = w.sNext;
            queues.detach(w, cause);
            touched.add(w.resource);
            w = next;
        }
        if (expired) {
            events.accept(new Event.SessionExpired(s.id()));
        }
        // Grant in name order: the same on every replica, however the lists were built.
        touched.sort(Comparator.comparing(r -> r.name));
        for (Resource r : touched) {
            queues.grantWaiters(r, events);
            queues.dropIfIdle(r);
        }
    }
}
