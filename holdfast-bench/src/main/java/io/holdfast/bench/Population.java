package io.holdfast.bench;

import io.holdfast.LockMode;
import io.holdfast.core.EventSink;
import io.holdfast.core.LockTable;
import io.holdfast.core.SessionTracker;
import io.holdfast.model.Command;
import io.holdfast.model.Command.Invocation;
import io.holdfast.model.Reply;
import java.util.Base64;
import java.util.Random;

/**
 * Fills a table the way a busy server looks: many sessions, each holding several exclusive locks
 * named like {@code orders/1234567}. Every string the table keeps (session id, client name, lock
 * name) is a fresh object, as it would be after decoding log entries, and this class keeps no
 * reference to any of them (session ids are re-derived from a seeded random for every pass), so a
 * heap measurement around its passes sees only what the table keeps.
 */
final class Population {
    static final long TIME = 1_000;

    private final int sessions;
    private final int locksPerSession;
    private final long leaseMillis;
    private final long[] seqs;
    private final long[] firstTokens;
    /** How many different client names the sessions have (0: one each). */
    private int clientNames;

    /**
     * Allocates all the bookkeeping up front: measure the heap after constructing.
     *
     * @param leaseMillis the lease timeout of the held locks, 0 for none
     */
    Population(int sessions, int locksPerSession, long leaseMillis) {
        this.sessions = sessions;
        this.locksPerSession = locksPerSession;
        this.leaseMillis = leaseMillis;
        this.seqs = new long[sessions];
        this.firstTokens = new long[sessions];
    }

    Population(int sessions, int locksPerSession) {
        this(sessions, locksPerSession, 0);
    }

    /** The sessions' client names repeat {@code n} names ({@code client-0} to {@code client-(n-1)}); 0: one each. */
    Population clientNames(int n) {
        this.clientNames = n;
        return this;
    }

    /** The name of held lock {@code i}: {@code orders/} and seven digits for i below 9,000,000. */
    static String lockName(int i) {
        return "orders/" + (1_000_000 + i);
    }

    /** A random 128-bit session id in URL-safe base64 (22 characters), as the server chooses them. */
    static String randomSessionId(Random random) {
        byte[] bytes = new byte[16];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /**
     * Opens the sessions (random ids, client names {@code client-N}, each a fresh string), none holding anything, after lifting the
     * quotas a population this size passes (the table counts sessions and locks against 1,000,000 state entries
     * and 10,000 sessions per identity by default: 10,000 sessions with 100 locks each are past the first).
     */
    void openSessions(LockTable table) {
        long most = Integer.MAX_VALUE;
        BenchClient.expect(
                Reply.Ok.class,
                table.apply(
                        Command.Envelope.of(
                                TIME,
                                new Command.SetQuotas(java.util.Map.of(
                                        "sessions-per-identity", most,
                                        "holds-per-session", most,
                                        "state-entries", most))),
                        EventSink.NONE));
        Random ids = new Random(42);
        for (int s = 0; s < sessions; s++) {
            Reply reply = table.apply(
                    TIME,
                    new Command.OpenSession(
                            randomSessionId(ids),
                            "client-" + (clientNames == 0 ? s : s % clientNames),
                            BenchClient.TTL_MILLIS,
                            0),
                    EventSink.NONE);
            BenchClient.expect(Reply.Ok.class, reply);
        }
    }

    /**
     * Every session sends one acquire and one release of a scratch lock, leaving nothing held:
     * afterwards each session remembers the reply to its last request, as every active session
     * does.
     */
    void touchSessions(LockTable table) {
        Random ids = new Random(42);
        for (int s = 0; s < sessions; s++) {
            String id = randomSessionId(ids);
            Reply.Granted g = BenchClient.expect(
                    Reply.Granted.class, table.apply(TIME, acquire(s, id, "scratch/lock", 1), EventSink.NONE));
            Invocation inv = next(s, id);
            BenchClient.expect(
                    Reply.Ok.class,
                    table.apply(TIME, new Command.Release(inv, "scratch/lock", g.token()), EventSink.NONE));
        }
    }

    /**
     * Tracks every session's heartbeats as the leader does ({@link SessionTracker}): opened, then
     * {@code heartbeats} heartbeats each, a third of a TTL apart, each id a fresh string as a
     * request brings it.
     */
    void track(SessionTracker tracker, int heartbeats) {
        long ttlNanos = BenchClient.TTL_MILLIS * 1_000_000;
        for (int beat = 0; beat <= heartbeats; beat++) {
            Random ids = new Random(42);
            for (int s = 0; s < sessions; s++) {
                String id = randomSessionId(ids);
                if (beat == 0) {
                    tracker.touch(id, ttlNanos, 0);
                } else if (!tracker.touch(id, beat * ttlNanos / 3)) {
                    throw new IllegalStateException("session " + id + " is not tracked");
                }
            }
        }
    }

    /** Every session acquires its {@code locksPerSession} distinct locks; returns how many are held. */
    long acquireAll(LockTable table) {
        Random ids = new Random(42);
        long held = 0;
        for (int s = 0; s < sessions; s++) {
            String id = randomSessionId(ids);
            for (int j = 0; j < locksPerSession; j++) {
                // A distinct owner per lock, as separate lease handles would have.
                Reply.Granted g = BenchClient.expect(
                        Reply.Granted.class,
                        table.apply(
                                TIME,
                                acquire(s, id, lockName(s * locksPerSession + j), 1 + j, leaseMillis),
                                EventSink.NONE));
                if (j == 0) {
                    firstTokens[s] = g.token();
                } else if (g.token() != firstTokens[s] + j) {
                    throw new IllegalStateException("tokens of a session's grants are not consecutive");
                }
                held++;
            }
        }
        return held;
    }

    /**
     * Renews every held lock at cluster time {@code time}, as the client's lease watchdog would,
     * then asks for the next deadline as the leader would to schedule its next tick.
     */
    void renewAll(LockTable table, long time) {
        Random ids = new Random(42);
        for (int s = 0; s < sessions; s++) {
            String id = randomSessionId(ids);
            for (int j = 0; j < locksPerSession; j++) {
                Reply reply = table.apply(
                        time,
                        new Command.Renew(next(s, id), lockName(s * locksPerSession + j), firstTokens[s] + j),
                        EventSink.NONE);
                BenchClient.expect(Reply.Ok.class, reply);
            }
        }
        table.nextDeadline();
    }

    private Command.Acquire acquire(int s, String id, String name, long owner) {
        return acquire(s, id, name, owner, 0);
    }

    private Command.Acquire acquire(int s, String id, String name, long owner, long lease) {
        return new Command.Acquire(next(s, id), name, LockMode.EXCLUSIVE, 1, 1, owner, 0, lease);
    }

    private Invocation next(int s, String id) {
        long seq = ++seqs[s];
        return new Invocation(id, seq, seq);
    }
}
