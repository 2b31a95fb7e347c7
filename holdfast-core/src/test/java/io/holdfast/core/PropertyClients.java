package io.holdfast.core;

import io.holdfast.LockMode;
import io.holdfast.model.Command;
import io.holdfast.model.CounterAdd;
import io.holdfast.model.Event;
import io.holdfast.model.KeyDelete;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * The clients of a property run: they turn {@link PropertyStep}s into {@link Command}s the way real
 * clients would, and remember what they were told (tokens, queued acquires, the commands they sent)
 * so that later steps can refer to it. Everything here depends only on the script and the answers,
 * so a script always resolves to the same commands against the same table.
 */
final class PropertyClients {
    /** Two ids the table keeps as text and two it keeps as bits ({@link CompactId}), and one never opened. */
    static final String[] SESSION_IDS = {
        "S0-aaaaaaaaaaaaaaaa",
        "S1bbbbbbbbbbbbbbbbbbbA",
        "S2-cccccccccccccccc",
        "S3dddddddddddddddddddw",
        "S4-never-opened-xx"
    };

    static final long[] LOCK_DELAY = {0, 1500, 0, 700};
    static final long TTL = 10_000;
    static final String[] NAMES = {"locks/a", "locks/b", "locks/c", "sem/pool", "bad\u0000name"};
    static final int SEMAPHORE = 3;
    static final int BAD_NAME = 4;
    static final int SEM_SIZE = 3;
    static final String[] KEYS = {"reg/x", "reg/y", ""};

    /** A command ready to apply, and what the clients know about it. */
    record Resolved(long time, Command command, int session, boolean retry) {
        /** The invocation of a client command, or null. */
        Command.Invocation invocation() {
            return command instanceof Command.ClientCommand c ? c.invocation() : null;
        }
    }

    private record TokenSeen(long token, String name, int session) {}

    private record QueuedSeen(int session, long seq, String name) {}

    private record Sent(Command command, int session) {}

    private long clock = 1_000;
    private final long[] nextSeq = {1, 1, 1, 1, 1};
    private final long[] acked = new long[5];
    private final List<TreeSet<Long>> undecided = new ArrayList<>();
    private final List<TokenSeen> tokens = new ArrayList<>();
    private final List<QueuedSeen> queued = new ArrayList<>();
    private final List<Sent> sent = new ArrayList<>();

    PropertyClients() {
        for (int i = 0; i < 5; i++) {
            undecided.add(new TreeSet<>());
        }
    }

    /** Opens sessions 0 to 3, before any script step. */
    List<Resolved> prelude() {
        List<Resolved> out = new ArrayList<>();
        for (int s = 0; s < 4; s++) {
            out.add(new Resolved(clock, open(s, 0), s, false));
        }
        return out;
    }

    Resolved resolve(PropertyStep step, ModelView view) {
        long time = time(step.dt());
        if (step instanceof PropertyStep.Open o) {
            return new Resolved(time, open(o.session(), o.variant()), o.session(), false);
        }
        if (step instanceof PropertyStep.KeepAlive k) {
            return new Resolved(time, new Command.KeepAlive(SESSION_IDS[k.session()]), k.session(), false);
        }
        if (step instanceof PropertyStep.Acquire a) {
            return acquire(a, time);
        }
        if (step instanceof PropertyStep.Release r) {
            TokenSeen t = token(r.pick(), r.otherName(), r.session(), view);
            Command.Invocation inv = invocation(t.session, r.ack());
            return sent(time, new Command.Release(inv, t.name, t.token), t.session);
        }
        if (step instanceof PropertyStep.Renew r) {
            TokenSeen t = token(r.pick(), r.otherName(), r.session(), view);
            Command.Invocation inv = invocation(t.session, r.ack());
            return sent(time, new Command.Renew(inv, t.name, t.token), t.session);
        }
        if (step instanceof PropertyStep.Cancel c) {
            QueuedSeen q = queuedWait(c.pick(), view);
            int session = c.session() < 0 ? q.session : c.session();
            String name = c.otherName() ? otherName(q.name) : q.name;
            return sent(time, new Command.CancelWait(invocation(session, c.ack()), name, q.seq), session);
        }
        if (step instanceof PropertyStep.Tick) {
            return new Resolved(time, new Command.Tick(), -1, false);
        }
        if (step instanceof PropertyStep.Expire e) {
            return new Resolved(time, new Command.ExpireSession(SESSION_IDS[e.session()]), e.session(), false);
        }
        if (step instanceof PropertyStep.Close c) {
            return sent(time, new Command.CloseSession(invocation(c.session(), c.ack())), c.session());
        }
        if (step instanceof PropertyStep.Revoke r) {
            return new Resolved(time, new Command.Revoke(NAMES[r.name()]), -1, false);
        }
        if (step instanceof PropertyStep.SetRegister s) {
            return setRegister(s, time, view);
        }
        if (step instanceof PropertyStep.KeyStep k) {
            return keyStep(k, time, view);
        }
        if (step instanceof PropertyStep.Retry r) {
            if (sent.isEmpty()) {
                return new Resolved(time, new Command.KeepAlive(SESSION_IDS[0]), 0, false);
            }
            Sent earlier = sent.get(sent.size() - 1 - r.pick() % sent.size());
            return new Resolved(time, earlier.command, earlier.session, true);
        }
        return malformed((PropertyStep.Malformed) step, time);
    }

    /** Takes note of an answer: tokens granted, acquires queued and decided. */
    void observe(Resolved resolved, Reply reply, List<Event> events) {
        Command c = resolved.command();
        if (c instanceof Command.Acquire a && reply instanceof Reply.Granted g) {
            noteToken(g.token(), a.name(), resolved.session());
        }
        if (c instanceof Command.Acquire a && reply instanceof Reply.Queued && !resolved.retry()) {
            queued.add(new QueuedSeen(resolved.session(), a.invocation().seq(), a.name()));
            undecided.get(resolved.session()).add(a.invocation().seq());
        }
        if (c instanceof Command.CancelWait w && reply instanceof Reply.Ok ok && ok.value() == 1) {
            undecided.get(resolved.session()).remove(w.waitSeq());
        }
        if ((c instanceof Command.CloseSession && reply instanceof Reply.Ok)
                || (c instanceof Command.ExpireSession && reply instanceof Reply.Ok ok && ok.value() == 1)) {
            undecided.get(resolved.session()).clear();
        }
        for (Event e : events) {
            int s = sessionIndex(e.sessionId());
            if (e instanceof Event.Granted g) {
                noteToken(g.token(), g.name(), s);
                undecided.get(s).remove(g.seq());
            } else if (e instanceof Event.WaitTimedOut t) {
                undecided.get(s).remove(t.seq());
            }
        }
    }

    private void noteToken(long token, String name, int session) {
        for (TokenSeen t : tokens) {
            if (t.token == token) {
                return;
            }
        }
        tokens.add(new TokenSeen(token, name, session));
    }

    private long time(int dt) {
        if (dt >= 0) {
            clock += dt;
            return clock;
        }
        return Math.max(0, clock + dt);
    }

    private Command open(int s, int variant) {
        String id = variant == 2 ? "short" : SESSION_IDS[s];
        String client = variant == 4 ? "" : "client-" + s;
        long ttl = variant == 1 ? 2 * TTL : variant == 3 ? 10 : TTL;
        return new Command.OpenSession(id, client, ttl, LOCK_DELAY[s]);
    }

    private Resolved acquire(PropertyStep.Acquire a, long time) {
        boolean semName = a.name() == SEMAPHORE;
        LockMode mode = switch (a.mode()) {
            case 0, 1 -> semName ? LockMode.PERMITS : a.mode() == 0 ? LockMode.EXCLUSIVE : LockMode.SHARED;
            case 2 -> semName ? LockMode.EXCLUSIVE : LockMode.PERMITS;
            default -> null;
        };
        int permits = mode == LockMode.PERMITS ? a.permits() : 1;
        int max = mode == LockMode.PERMITS ? a.semSize() : 1;
        Command.Invocation inv = invocation(a.session(), a.ack());
        Command command = new Command.Acquire(
                inv, NAMES[a.name()], mode, permits, max, a.owner(), a.waitMillis(), a.leaseMillis());
        return sent(time, command, a.session());
    }

    private Resolved setRegister(PropertyStep.SetRegister s, long time, ModelView view) {
        String key = KEYS[s.key()];
        long current = view.registerVersion(key);
        long expected = switch (s.expect()) {
            case 0 -> current;
            case 1 -> current - 1;
            case 2 -> 0;
            default -> current + 1;
        };
        String fenceName = null;
        long fenceToken = 0;
        if (s.fence() >= 0) {
            TokenSeen t = token(s.fence(), false, s.session(), view);
            fenceName = t.name;
            fenceToken = t.token;
        }
        byte[] value = ("v" + time).getBytes(StandardCharsets.UTF_8);
        Command.Invocation inv = invocation(s.session(), s.ack());
        return sent(time, new RegisterSet(inv, key, expected, value, fenceName, fenceToken), s.session());
    }

    private Resolved keyStep(PropertyStep.KeyStep k, long time, ModelView view) {
        String key = KEYS[k.key()];
        long current = view.registerVersion(key);
        Command.Invocation inv = invocation(k.session(), k.ack());
        Command command = switch (k.kind()) {
            case 0 ->
                new RegisterSet(
                        inv, key, current, ("a" + time).getBytes(StandardCharsets.UTF_8), null, 0, true, true, 0);
            case 1 -> new KeyDelete(inv, key, current);
            case 2 -> new KeyDelete(inv, key, KeyDelete.ANY_VERSION);
            default -> new CounterAdd(inv, key, 1);
        };
        return sent(time, command, k.session());
    }

    private Resolved malformed(PropertyStep.Malformed m, long time) {
        String id = SESSION_IDS[m.session()];
        long seq = nextSeq[m.session()];
        Command.Invocation inv = switch (m.kind()) {
            case 0 -> new Command.Invocation(id, 0, 0);
            case 1 -> new Command.Invocation(id, seq, -1);
            case 2 -> new Command.Invocation(id, seq, seq + 1);
            default -> null;
        };
        Command command = switch (m.kind()) {
            case 4 -> null;
            case 5 -> new Command.ExpireSession(null);
            case 6 -> new Command.Revoke(null);
            case 7 -> new Command.OpenSession(null, "client", TTL, 0);
            default -> new Command.Acquire(inv, NAMES[0], LockMode.EXCLUSIVE, 1, 1, 1, 0, 0);
        };
        return new Resolved(time, command, m.session(), false);
    }

    /**
     * A token for a release, renew or fenced write. Picks 0 to 4 take a token held now (as a client
     * mostly gives back what it holds): 0 to 2 counted from the oldest grant (the holders queues wait
     * for), 3 and 4 from the newest; picks from 5 on, or when nothing is held, take any token seen so
     * far (often a stale one); pick -1 gives token 0 and -2 one above every grant, on the first lock
     * name.
     */
    private TokenSeen token(int pick, boolean other, int session, ModelView view) {
        List<TokenSeen> held = new ArrayList<>();
        for (TokenSeen t : tokens) {
            if (view.holder(t.token) != null) {
                held.add(t);
            }
        }
        TokenSeen t;
        if (pick < 0 || tokens.isEmpty()) {
            t = new TokenSeen(pick == -2 ? view.lastToken() + 7 : 0, NAMES[0], Math.max(session, 0));
        } else if (pick < 3 && !held.isEmpty()) {
            t = held.get(pick % held.size()); // the oldest holders: they are what queues wait for
        } else if (pick < 5 && !held.isEmpty()) {
            t = held.get(held.size() - 1 - pick % held.size());
        } else {
            t = tokens.get(tokens.size() - 1 - pick % tokens.size());
        }
        return new TokenSeen(t.token, other ? otherName(t.name) : t.name, session < 0 ? t.session : session);
    }

    /** A wait queued earlier: picks 0 to 4 take one still queued when there is one. */
    private QueuedSeen queuedWait(int pick, ModelView view) {
        List<QueuedSeen> waiting = new ArrayList<>();
        for (QueuedSeen q : queued) {
            if (view.waiter(SESSION_IDS[q.session], q.seq) != null) {
                waiting.add(q);
            }
        }
        List<QueuedSeen> from = pick < 5 && !waiting.isEmpty() ? waiting : queued;
        return from.isEmpty() ? new QueuedSeen(0, 999, NAMES[0]) : from.get(from.size() - 1 - pick % from.size());
    }

    private static String otherName(String name) {
        for (int i = 0; i < SEMAPHORE + 1; i++) {
            if (NAMES[i].equals(name)) {
                return NAMES[(i + 1) % (SEMAPHORE + 1)];
            }
        }
        return NAMES[0];
    }

    /** The next invocation of session {@code s}, with {@code ackedBelow} moved as {@code ack} says. */
    private Command.Invocation invocation(int s, int ack) {
        long seq = nextSeq[s]++;
        long ackedBelow;
        switch (ack) {
            case 1 -> {
                TreeSet<Long> open = undecided.get(s);
                acked[s] = Math.max(acked[s], open.isEmpty() ? seq : Math.min(seq, open.first()));
                ackedBelow = acked[s];
            }
            case 2 -> {
                acked[s] = seq;
                ackedBelow = seq;
            }
            case 3 -> ackedBelow = 0;
            default -> ackedBelow = acked[s];
        }
        return new Command.Invocation(SESSION_IDS[s], seq, ackedBelow);
    }

    private Resolved sent(long time, Command command, int session) {
        sent.add(new Sent(command, session));
        return new Resolved(time, command, session, false);
    }

    static int sessionIndex(String id) {
        for (int i = 0; i < SESSION_IDS.length; i++) {
            if (SESSION_IDS[i].equals(id)) {
                return i;
            }
        }
        throw new AssertionError("event for a session no client opened: " + id);
    }
}
