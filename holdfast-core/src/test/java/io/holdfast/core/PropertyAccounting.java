package io.holdfast.core;

import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.Reply;
import java.util.List;

/**
 * The {@code explained} rule of {@link PropertyInvariants}: every holder and waiter that appears,
 * disappears or changes in a step is accounted for by the step's command, reply or events. A
 * holder appears only by a grant (a reply to a new acquire, or an event), vanishes only by a
 * release, a loss event or the end of its session, and changes only its lease deadline (by a
 * renew). A waiter appears only by a
 * queued reply and vanishes only by a grant, a timeout, a cancel or the end of its session.
 * Sessions that ended hold and wait for nothing.
 */
final class PropertyAccounting {
    private PropertyAccounting() {}

    static void check(
            Command command, boolean retry, ModelView before, ModelView after, Reply reply, List<Event> events) {
        String ended = null;
        if ((command instanceof Command.CloseSession c && reply instanceof Reply.Ok && !retry)) {
            ended = c.invocation().sessionId();
        } else if (command instanceof Command.ExpireSession x && reply instanceof Reply.Ok ok && ok.value() == 1) {
            ended = x.sessionId();
        }
        if (ended != null && after.session(ended) != null) {
            throw PropertyInvariants.fail("explained", "session " + ended + " ended but is still there");
        }
        for (ModelView.VRes r : after.resources()) {
            for (ModelView.VHold h : r.holders()) {
                if (after.session(h.session()) == null) {
                    throw PropertyInvariants.fail(
                            "explained", r.name() + " is held by " + h.session() + ", which is gone");
                }
            }
            for (ModelView.VWait w : r.queue()) {
                if (after.session(w.session()) == null) {
                    throw PropertyInvariants.fail(
                            "explained", r.name() + " is awaited by " + w.session() + ", which is gone");
                }
            }
        }
        for (ModelView.VRes r : before.resources()) {
            for (ModelView.VHold h : r.holders()) {
                ModelView.VHold now = after.holder(h.token());
                if (now == null) {
                    boolean lost = events.stream().anyMatch(e -> e instanceof Event.Lost l && l.token() == h.token());
                    boolean released = command instanceof Command.Release rel
                            && !retry
                            && rel.token() == h.token()
                            && reply.equals(new Reply.Ok(0));
                    if (!lost && !released && !h.session().equals(ended)) {
                        throw PropertyInvariants.fail("explained", "holder " + h + " of " + r.name() + " vanished");
                    }
                } else {
                    checkHoldChange(command, retry, h, now, reply);
                }
            }
            for (ModelView.VWait w : r.queue()) {
                if (after.waiter(w.session(), w.seq()) != null) {
                    continue;
                }
                boolean decided = events.stream()
                        .anyMatch(e -> (e instanceof Event.Granted g
                                        && g.sessionId().equals(w.session())
                                        && g.seq() == w.seq())
                                || (e instanceof Event.WaitTimedOut t
                                        && t.sessionId().equals(w.session())
                                        && t.seq() == w.seq()));
                boolean cancelled = command instanceof Command.CancelWait c
                        && c.invocation().sessionId().equals(w.session())
                        && c.waitSeq() == w.seq()
                        && reply.equals(new Reply.Ok(1));
                if (!decided && !cancelled && !w.session().equals(ended)) {
                    throw PropertyInvariants.fail(
                            "explained", "waiter " + w + " of " + r.name() + " vanished without a grant or timeout");
                }
            }
        }
        for (ModelView.VRes r : after.resources()) {
            for (ModelView.VHold h : r.holders()) {
                if (before.holder(h.token()) == null) {
                    boolean granted =
                            events.stream().anyMatch(e -> e instanceof Event.Granted g && g.token() == h.token());
                    boolean replied =
                            command instanceof Command.Acquire && !retry && reply.equals(new Reply.Granted(h.token()));
                    if (!granted && !replied) {
                        throw PropertyInvariants.fail(
                                "explained", "holder " + h + " of " + r.name() + " appeared unannounced");
                    }
                }
            }
            for (ModelView.VWait w : r.queue()) {
                if (before.waiter(w.session(), w.seq()) == null) {
                    boolean queued = command instanceof Command.Acquire a
                            && a.invocation().sessionId().equals(w.session())
                            && a.invocation().seq() == w.seq()
                            && reply instanceof Reply.Queued;
                    if (!queued) {
                        throw PropertyInvariants.fail(
                                "explained", "waiter " + w + " of " + r.name() + " appeared unannounced");
                    }
                }
            }
        }
    }

    private static void checkHoldChange(
            Command command, boolean retry, ModelView.VHold was, ModelView.VHold now, Reply reply) {
        boolean renewed = command instanceof Command.Renew r
                && !retry
                && r.token() == was.token()
                && reply.equals(new Reply.Ok(now.leaseDeadline()));
        long deadline = renewed ? now.leaseDeadline() : was.leaseDeadline();
        ModelView.VHold expected = new ModelView.VHold(
                was.session(),
                was.owner(),
                was.token(),
                was.mode(),
                was.permits(),
                was.grantedAt(),
                was.leaseMillis(),
                deadline);
        if (!expected.equals(now)) {
            throw PropertyInvariants.fail("explained", "holder " + was + " changed to " + now + " after " + reply);
        }
    }
}
