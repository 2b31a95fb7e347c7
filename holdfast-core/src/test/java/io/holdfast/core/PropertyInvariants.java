package io.holdfast.core;

import io.holdfast.ErrorCode;
import io.holdfast.LockInfo;
import io.holdfast.LockMode;
import io.holdfast.model.Command;
import io.holdfast.model.CounterAdd;
import io.holdfast.model.Event;
import io.holdfast.model.KeyDelete;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The safety and liveness rules a lock table must keep, checked on the table alone after every
 * step (they do not trust the model). Each failure message starts with the rule's name:
 *
 * <ul>
 *   <li>{@code clock}: the table's clock is the largest command time so far; it never goes back.
 *   <li>{@code exclusion}: never two exclusive holders, never an exclusive beside other holders,
 *       never more permits held than a semaphore has; tokens of current grants are distinct.
 *   <li>{@code tokens}: every new grant (reply or event) has a token above every earlier one; a
 *       retried reply repeats a token of the same session.
 *   <li>{@code fifo}: grants on one name follow its queue: a waiter is granted only if every waiter
 *       ahead of it is gone, and a new request is granted at once only if nobody waits.
 *   <li>{@code deadlock}: only a lock wait is refused as a deadlock, naming a cycle that starts
 *       with the lock asked for.
 *   <li>{@code lock-delay}: nothing is granted on a name whose lock-delay has not passed; an expired
 *       session's locks get its lock-delay.
 *   <li>{@code events}: every event concerns a session that was alive; a grant goes to a queued
 *       waiter before its deadline; a timeout only after the deadline; a lease loss only after the
 *       lease timeout; a wait that timed out or was cancelled is never granted later.
 *   <li>{@code explained}: every hold or waiter that appears or disappears is accounted for by the
 *       reply or an event of this step; ended sessions hold and wait for nothing ({@link
 *       PropertyAccounting}).
 *   <li>{@code exactly-once}: a retry of a remembered request is answered from memory (updated by
 *       the later grant or timeout of a queued acquire), and changes nothing but the clock.
 *   <li>{@code liveness}: no waiter at the head of a queue could be granted but is not (no lost
 *       wake-up); after a tick nothing is past due; no idle resource is left behind.
 *   <li>{@code registers}: versions only grow, a write happens only with the right version and a
 *       current fencing token, and a refusal changes nothing.
 *   <li>{@code operator-view}: {@link LockTable#list} and {@link LockTable#describe} show the state.
 * </ul>
 */
final class PropertyInvariants {
    private long maxTime = Long.MIN_VALUE;
    private long maxToken;
    private long lastTickNow = Long.MIN_VALUE;
    private final Map<String, Integer> incarnation = new HashMap<>();
    /** For session#seq: the incarnation of the session that remembers its reply. */
    private final Map<String, Integer> rememberedBy = new HashMap<>();
    /** For session#seq: what a retry must be answered. */
    private final Map<String, String> outcome = new HashMap<>();
    /** session#incarnation#seq of waits that timed out, were cancelled, or whose session ended. */
    private final Set<String> closedWaits = new HashSet<>();

    private static final String TIMEOUT = ModelView.norm(Reply.Failed.of(ErrorCode.TIMEOUT, ""));

    void check(
            PropertyClients.Resolved step,
            ModelView before,
            ModelView after,
            Reply reply,
            List<Event> events,
            PropertySubject subject) {
        Command command = step.command();
        Command.Invocation inv = step.invocation();
        boolean retry = inv != null && isRetry(inv, before);
        checkClock(step.time(), command, before, after);
        checkExclusion(after);
        checkEvents(command, before, after, events);
        checkTokens(command, retry, after, reply, events);
        checkFifo(command, retry, before, after, reply, events);
        checkDeadlockReply(command, retry, reply);
        PropertyAccounting.check(command, retry, before, after, reply, events);
        checkExactlyOnce(command, inv, retry, before, after, reply, events);
        checkMemory(after);
        checkRegisters(command, retry, before, after, reply);
        checkLiveness(command, after, subject);
        checkOperatorView(after, subject);
        // Bookkeeping for later steps.
        for (ModelView.VSession s : after.sessions()) {
            if (before.session(s.id()) == null) {
                incarnation.merge(s.id(), 1, Integer::sum);
            }
        }
    }

    static AssertionError fail(String rule, String message) {
        return new AssertionError(rule + ": " + message);
    }

    private int inc(String session) {
        return incarnation.getOrDefault(session, 0);
    }

    private static String key(String session, long seq) {
        return session + "#" + seq;
    }

    private boolean isRetry(Command.Invocation inv, ModelView before) {
        Integer by = rememberedBy.get(key(inv.sessionId(), inv.seq()));
        return by != null && by == inc(inv.sessionId()) && before.session(inv.sessionId()) != null;
    }

    private void checkClock(long time, Command command, ModelView before, ModelView after) {
        if (command != null) {
            maxTime = Math.max(maxTime, time);
        }
        long expected = Math.max(before.now(), command == null ? before.now() : time);
        if (after.now() != expected || (maxTime >= 0 && after.now() != Math.max(maxTime, 0))) {
            throw fail(
                    "clock",
                    "table clock " + after.now() + ", expected " + expected + " (largest time " + maxTime + ")");
        }
    }

    private static void checkExclusion(ModelView after) {
        Set<Long> tokens = new HashSet<>();
        for (ModelView.VRes r : after.resources()) {
            int exclusive = 0;
            int permits = 0;
            for (ModelView.VHold h : r.holders()) {
                if (!tokens.add(h.token()) || h.token() <= 0 || h.token() > after.lastToken()) {
                    throw fail("exclusion", "token " + h.token() + " of " + r.name() + " is repeated or out of range");
                }
                if (h.permits() < 1) {
                    throw fail("exclusion", "holder " + h + " of " + r.name() + " has no count or permits");
                }
                if (r.semaphore() != (h.mode() == LockMode.PERMITS)) {
                    throw fail("exclusion", "holder " + h + " has the wrong mode for " + r.name());
                }
                exclusive += h.mode() == LockMode.EXCLUSIVE ? 1 : 0;
                permits += h.permits();
            }
            if (exclusive > 1 || (exclusive == 1 && r.holders().size() > 1)) {
                throw fail("exclusion", r.name() + " has an exclusive holder beside others: " + r.holders());
            }
            if (r.semaphore()
                    ? permits > r.maxPermits()
                    : permits != r.holders().size()) {
                throw fail("exclusion", r.name() + " holds " + permits + " permits of " + r.maxPermits());
            }
        }
    }

    private void checkEvents(Command command, ModelView before, ModelView after, List<Event> events) {
        for (Event e : events) {
            if (before.session(e.sessionId()) == null) {
                throw fail("events", e + " for a session that was not alive");
            }
            if (e instanceof Event.Granted g) {
                ModelView.VWait w = before.waiter(g.sessionId(), g.seq());
                ModelView.VRes was = before.waitingOn(g.sessionId(), g.seq());
                if (w == null || !was.name().equals(g.name())) {
                    throw fail("events", e + " was not queued for " + g.name());
                }
                if (w.deadline() <= after.now()) {
                    throw fail("events", e + " granted at " + after.now() + ", past its deadline " + w.deadline());
                }
                if (closedWaits.contains(waitKey(g.sessionId(), g.seq()))) {
                    throw fail("events", e + " grants a wait that timed out or was cancelled");
                }
                ModelView.VHold h = after.holder(g.token());
                if (h == null || !h.session().equals(g.sessionId()) || !g.name().equals(after.holderName(g.token()))) {
                    throw fail("events", e + " but the table has no such holder");
                }
            } else if (e instanceof Event.WaitTimedOut t) {
                ModelView.VWait w = before.waiter(t.sessionId(), t.seq());
                if (w == null
                        || !before.waitingOn(t.sessionId(), t.seq()).name().equals(t.name())) {
                    throw fail("events", e + " was not queued");
                }
                if (w.deadline() > after.now()) {
                    throw fail("events", e + " at " + after.now() + ", before its deadline " + w.deadline());
                }
            } else if (e instanceof Event.Lost l) {
                ModelView.VHold h = before.holder(l.token());
                if (h == null || !h.session().equals(l.sessionId()) || !l.name().equals(before.holderName(l.token()))) {
                    throw fail("events", e + " but there was no such holder");
                }
                if (after.holder(l.token()) != null) {
                    throw fail("events", e + " but the holder is still there");
                }
                boolean cause = switch (l.reason()) {
                    case SESSION_EXPIRED ->
                        command instanceof Command.ExpireSession x
                                && l.sessionId().equals(x.sessionId());
                    case REVOKED ->
                        command instanceof Command.Revoke x && l.name().equals(x.name());
                    case LEASE_TIMEOUT ->
                        command instanceof Command.Tick && h.leaseMillis() != 0 && h.leaseDeadline() <= after.now();
                };
                if (!cause) {
                    throw fail("events", e + " without its cause (command " + command + ", holder " + h + ")");
                }
            } else if (e instanceof Event.SessionExpired x) {
                if (!(command instanceof Command.ExpireSession c)
                        || !c.sessionId().equals(x.sessionId())) {
                    throw fail("events", e + " without an ExpireSession");
                }
            }
        }
        // Waits that end here without a grant can never be granted later.
        for (Event e : events) {
            if (e instanceof Event.WaitTimedOut t) {
                closedWaits.add(waitKey(t.sessionId(), t.seq()));
            }
        }
        for (ModelView.VRes r : before.resources()) {
            for (ModelView.VWait w : r.queue()) {
                if (after.session(w.session()) == null) {
                    closedWaits.add(waitKey(w.session(), w.seq()));
                }
            }
        }
        if (command instanceof Command.CancelWait c) {
            String session = c.invocation().sessionId();
            ModelView.VRes r = before.waitingOn(session, c.waitSeq());
            if (r != null && after.waitingOn(session, c.waitSeq()) == null) {
                closedWaits.add(waitKey(session, c.waitSeq()));
            }
        }
    }

    private String waitKey(String session, long seq) {
        return session + "#" + inc(session) + "#" + seq;
    }

    private void checkTokens(Command command, boolean retry, ModelView after, Reply reply, List<Event> events) {
        for (Event e : events) {
            if (e instanceof Event.Granted g) {
                if (g.token() <= maxToken) {
                    throw fail("tokens", e + " is not above the last token granted, " + maxToken);
                }
                maxToken = g.token();
            }
        }
        if (command instanceof Command.Acquire && reply instanceof Reply.Granted g && !retry) {
            if (g.token() <= maxToken) {
                throw fail("tokens", "new grant " + g + " is not above the last token granted, " + maxToken);
            }
            maxToken = g.token();
        }
        if (after.lastToken() != maxToken) {
            throw fail("tokens", "the table's last token is " + after.lastToken() + ", the last granted " + maxToken);
        }
    }

    private static void checkFifo(
            Command command, boolean retry, ModelView before, ModelView after, Reply reply, List<Event> events) {
        Map<String, Integer> lastPosition = new HashMap<>();
        for (Event e : events) {
            if (!(e instanceof Event.Granted g)) {
                continue;
            }
            List<ModelView.VWait> queue = before.resource(g.name()).queue();
            int pos = indexOf(queue, g.sessionId(), g.seq());
            if (pos <= lastPosition.getOrDefault(g.name(), -1)) {
                throw fail("fifo", e + " granted out of queue order " + queue);
            }
            lastPosition.put(g.name(), pos);
            for (int i = 0; i < pos; i++) {
                ModelView.VWait ahead = queue.get(i);
                if (after.waiter(ahead.session(), ahead.seq()) != null) {
                    throw fail("fifo", e + " granted while " + ahead + " still waits ahead of it");
                }
            }
            checkNotDelayed(g.name(), after);
        }
        if (command instanceof Command.Acquire a && reply instanceof Reply.Granted && !retry) {
            ModelView.VRes r = before.resource(a.name());
            if (r != null && !r.queue().isEmpty()) {
                throw fail("fifo", "acquire " + a.name() + " granted at once although " + r.queue() + " wait");
            }
            checkNotDelayed(a.name(), after);
        }
        if (command instanceof Command.ExpireSession x && before.session(x.sessionId()) != null) {
            long delay = before.session(x.sessionId()).lockDelayMillis();
            for (ModelView.VRes r : before.resources()) {
                boolean held = r.holders().stream().anyMatch(h -> h.session().equals(x.sessionId()));
                ModelView.VRes now = after.resource(r.name());
                if (held && delay > 0 && (now == null || now.blockedUntil() < after.now() + delay)) {
                    throw fail("lock-delay", r.name() + " of expired " + x.sessionId() + " is not delayed: " + now);
                }
            }
        }
    }

    private static void checkDeadlockReply(Command command, boolean retry, Reply reply) {
        if (!(reply instanceof Reply.Failed f) || f.code() != ErrorCode.DEADLOCK || retry) {
            return;
        }
        if (!(command instanceof Command.Acquire a) || a.waitMillis() == 0 || a.mode() == LockMode.PERMITS) {
            throw fail("deadlock", "only a lock wait can deadlock, not " + command);
        }
        if (f.cycle().isEmpty()
                || !f.cycle().get(0).equals(a.name())
                || f.cycle().size() > LockTable.MAX_CYCLE_NAMES) {
            throw fail("deadlock", "the cycle " + f.cycle() + " must start with " + a.name());
        }
    }

    private static void checkNotDelayed(String name, ModelView after) {
        ModelView.VRes r = after.resource(name);
        if (r != null && r.blockedUntil() > after.now()) {
            throw fail("lock-delay", name + " granted during its lock-delay, until " + r.blockedUntil());
        }
    }

    private static int indexOf(List<ModelView.VWait> queue, String session, long seq) {
        for (int i = 0; i < queue.size(); i++) {
            if (queue.get(i).session().equals(session) && queue.get(i).seq() == seq) {
                return i;
            }
        }
        return -1;
    }

    private void checkExactlyOnce(
            Command command,
            Command.Invocation inv,
            boolean retry,
            ModelView before,
            ModelView after,
            Reply reply,
            List<Event> events) {
        // Decisions on queued acquires update what a retry must hear.
        for (Event e : events) {
            if (e instanceof Event.Granted g) {
                outcome.replace(key(g.sessionId(), g.seq()), ModelView.norm(new Reply.Granted(g.token())));
            } else if (e instanceof Event.WaitTimedOut t) {
                outcome.replace(key(t.sessionId(), t.seq()), TIMEOUT);
            }
        }
        if (inv == null) {
            return;
        }
        String session = inv.sessionId();
        String key = key(session, inv.seq());
        if (retry) {
            ModelView.VSession s = after.session(session);
            String expected = s == null
                    ? ModelView.norm(Reply.Failed.of(ErrorCode.SESSION_EXPIRED, ""))
                    : inv.seq() < s.ackedBelow()
                            ? ModelView.norm(Reply.Failed.of(ErrorCode.INVALID_ARGUMENT, ""))
                            : outcome.get(key);
            if (!ModelView.norm(reply).equals(expected)) {
                throw fail("exactly-once", "retry answered " + reply + ", expected " + expected);
            }
            if (!events.isEmpty() || !withoutClock(before).equals(withoutClock(after))) {
                throw fail(
                        "exactly-once",
                        "a retry changed the table: events " + events + "\n"
                                + withoutClock(before).diff(withoutClock(after)));
            }
            return;
        }
        ModelView.VSession s = after.session(session);
        boolean wellFormed = inv.seq() > 0 && inv.ackedBelow() >= 0 && inv.ackedBelow() <= inv.seq();
        boolean refusedInput = reply instanceof Reply.Failed f && f.code() == ErrorCode.INVALID_ARGUMENT;
        if (s != null
                && before.session(session) != null
                && wellFormed
                && inv.seq() >= s.ackedBelow()
                && !refusedInput
                && !s.replies().containsKey(inv.seq())) {
            throw fail("exactly-once", "answered " + reply + " but did not remember it for a retry");
        }
        if (s != null && before.session(session) != null && s.replies().containsKey(inv.seq())) {
            String remembered = s.replies().get(inv.seq());
            if (!remembered.equals(ModelView.norm(reply))) {
                throw fail("exactly-once", "remembered " + remembered + " but answered " + reply);
            }
            rememberedBy.put(key, inc(session));
            outcome.put(key, remembered);
        }
        if (command instanceof Command.CancelWait c && reply.equals(new Reply.Ok(1))) {
            outcome.replace(key(session, c.waitSeq()), TIMEOUT); // a cancelled acquire is answered as timed out
        }
    }

    /** Whatever a table still remembers must be what a retry is to be told. */
    private void checkMemory(ModelView after) {
        for (ModelView.VSession s : after.sessions()) {
            for (Map.Entry<Long, String> e : s.replies().entrySet()) {
                String k = key(s.id(), e.getKey());
                if (Objects.equals(rememberedBy.get(k), inc(s.id()))
                        && !e.getValue().equals(outcome.get(k))) {
                    throw fail(
                            "exactly-once",
                            s.id() + " seq " + e.getKey() + " remembered as " + e.getValue() + ", decided "
                                    + outcome.get(k));
                }
            }
        }
    }

    /**
     * The sessions the command ended: gone from the view, or the one it expired, closed or ended
     * unless it was refused (a retried close of a session's earlier life, say: the session lives on).
     */
    private static Set<String> endedSessions(Command command, Reply reply, ModelView before, ModelView after) {
        Set<String> ended = new HashSet<>();
        before.sessions().forEach(v -> ended.add(v.id()));
        after.sessions().forEach(v -> ended.remove(v.id()));
        if (reply instanceof Reply.Failed) {
            return ended;
        }
        if (command instanceof Command.ExpireSession x) {
            ended.add(x.sessionId());
        } else if (command instanceof Command.EndSession x) {
            ended.add(x.sessionId());
        } else if (command instanceof Command.CloseSession x && x.invocation() != null) {
            ended.add(x.invocation().sessionId());
        }
        ended.remove(null); // a malformed command names no session
        return ended;
    }

    private static ModelView withoutClock(ModelView v) {
        return new ModelView(0, v.lastToken(), v.resources(), v.sessions(), v.registers());
    }

    private static void checkRegisters(Command command, boolean retry, ModelView before, ModelView after, Reply reply) {
        Set<String> ended = endedSessions(command, reply, before, after);
        String deleted = !retry && command instanceof KeyDelete d && reply instanceof Reply.Ok ? d.key() : null;
        List<ModelView.VRegister> kept = new ArrayList<>();
        for (ModelView.VRegister was : before.registers()) {
            boolean gone = after.register(was.key()) == null;
            if (gone && (was.key().equals(deleted) || ended.contains(was.owner()))) {
                continue; // deleted by this command, or with its session
            }
            if (after.registerVersion(was.key()) < was.version()) {
                throw fail("registers", was.key() + " went back to version " + after.registerVersion(was.key()));
            }
            kept.add(was);
        }
        for (ModelView.VRegister now : after.registers()) {
            if (ended.contains(now.owner())) {
                throw fail("registers", now.key() + " outlives its session " + now.owner());
            }
        }
        if (!retry && command instanceof CounterAdd c && reply instanceof Reply.Counted n) {
            ModelView.VRegister now = after.register(c.key());
            String value = HexFormat.of()
                    .formatHex(
                            java.nio.ByteBuffer.allocate(8).putLong(n.value()).array());
            if (now == null
                    || now.version() != before.registerVersion(c.key()) + 1
                    || n.version() != now.version()
                    || !now.value().equals(value)) {
                throw fail("registers", "bad counter add " + reply + " of " + c + ": " + now);
            }
            return;
        }
        boolean written = command instanceof RegisterSet && !retry && reply instanceof Reply.Written;
        if (!written) {
            if (!kept.equals(after.registers())) {
                throw fail("registers", "changed without a write: " + before.registers() + " -> " + after.registers());
            }
            if (command instanceof RegisterSet c
                    && !retry
                    && reply instanceof Reply.Failed f
                    && f.code() == ErrorCode.CONFLICT
                    && f.currentVersion() != before.registerVersion(c.key())) {
                throw fail("registers", "conflict reports version " + f.currentVersion());
            }
            return;
        }
        RegisterSet c = (RegisterSet) command;
        long version = before.registerVersion(c.key());
        ModelView.VRegister now = after.register(c.key());
        if (c.expectedVersion() != version
                || ((Reply.Written) reply).version() != version + 1
                || now == null
                || now.version() != version + 1
                || !now.value().equals(HexFormat.of().formatHex(c.value()))) {
            throw fail("registers", "bad write " + reply + " of " + c + ": " + now);
        }
        if (c.fenceName() != null && !c.fenceName().equals(before.holderName(c.fenceToken()))) {
            throw fail("registers", "fenced write with token " + c.fenceToken() + ", not a grant of " + c.fenceName());
        }
        List<ModelView.VRegister> others = new ArrayList<>(after.registers());
        others.remove(now);
        List<ModelView.VRegister> othersBefore = new ArrayList<>(before.registers());
        othersBefore.removeIf(r -> r.key().equals(c.key()));
        if (!others.equals(othersBefore)) {
            throw fail("registers", "a write of " + c.key() + " changed other registers");
        }
    }

    private void checkLiveness(Command command, ModelView after, PropertySubject subject) {
        long now = after.now();
        if (command instanceof Command.Tick) {
            lastTickNow = now;
            for (ModelView.VRes r : after.resources()) {
                for (ModelView.VHold h : r.holders()) {
                    if (h.leaseMillis() != 0 && h.leaseDeadline() <= now) {
                        throw fail(
                                "liveness",
                                "after a tick at " + now + ", " + h + " of " + r.name() + " is past its lease");
                    }
                }
                for (ModelView.VWait w : r.queue()) {
                    if (w.deadline() <= now) {
                        throw fail(
                                "liveness", "after a tick at " + now + ", " + w + " of " + r.name() + " is past due");
                    }
                }
            }
            if (subject.nextDeadline() <= now) {
                throw fail("liveness", "after a tick at " + now + ", the next deadline is " + subject.nextDeadline());
            }
        }
        for (ModelView.VRes r : after.resources()) {
            // A lock-delay that was over at the last tick has been handled by it.
            boolean delayPassed = r.blockedUntil() == 0 || r.blockedUntil() <= lastTickNow;
            if (r.idle() && delayPassed) {
                throw fail("liveness", "idle resource left behind: " + r);
            }
            if (!r.queue().isEmpty()) {
                ModelView.VWait head = r.queue().get(0);
                if (head.deadline() > now && delayPassed && r.fits(head.mode(), head.permits())) {
                    throw fail("liveness", "lost wake-up: " + head + " could have " + r.name() + " but waits");
                }
            }
        }
    }

    private static void checkOperatorView(ModelView after, PropertySubject subject) {
        List<LockInfo> all = after.expectedList();
        if (!subject.list().equals(all)) {
            throw fail("operator-view", "list() shows " + subject.list() + "\n  expected " + all);
        }
        for (int i = 0; i <= PropertyClients.SEMAPHORE; i++) {
            String name = PropertyClients.NAMES[i];
            Optional<LockInfo> expected =
                    all.stream().filter(l -> l.name().equals(name)).findFirst();
            if (!subject.describe(name).equals(expected)) {
                throw fail("operator-view", "describe(" + name + ") shows " + subject.describe(name));
            }
        }
    }
}
